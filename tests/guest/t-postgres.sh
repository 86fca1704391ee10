# SPDX-License-Identifier: GPL-2.0
# budget: 400
# kernel: bench
# covers: kmod/gate.rs manager/src/cli/record.rs manager/src/policy/oci.rs
# PostgreSQL (Debian's 15, through the host root) in a cgroup of its own,
# driven by pgbench on loopback, as t-services drives nginx and redis:
# every transaction commits unfiltered, under Docker's default profile
# through sysfence, and under a profile recorded from its own traffic
# applied live; fsync denied live makes its checkpoint fail (the client
# sees the error) and the event names the program.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/containers.sh"
host_env_up
ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up
host_sysfence
P=/run/sf-pg
BIN=/usr/lib/postgresql/15/bin
# as_pg CMD...: CMD as the postgres user in the host root.
as_pg() { chroot $HR /usr/bin/setpriv --reuid=postgres --regid=postgres --init-groups "$@"; }
ev_pid=
trap 'kill $ev_pid 2>/dev/null; as_pg $BIN/pg_ctl -D $P/data -m immediate stop >/dev/null 2>&1; host_env_down' EXIT
mkdir -p $HR$P
chroot $HR chown postgres:postgres $P || fail "chown $P failed"
as_pg $BIN/initdb --no-sync -A trust -U postgres -D $P/data >/tmp/pg.init 2>&1 || fail "initdb failed: $(tail -n 5 /tmp/pg.init)"
cg_new svc/pg >/dev/null
(echo 0 >/sys/fs/cgroup/svc/pg/cgroup.procs && exec chroot $HR /usr/bin/setpriv --reuid=postgres --regid=postgres --init-groups \
  $BIN/postgres -D $P/data -k $P -h 127.0.0.1 -p 5433 -c fsync=on -c full_page_writes=off >$HR$P/log 2>&1) &
i=0
until as_pg $BIN/pg_isready -q -h 127.0.0.1 -p 5433; do
  i=$((i + 1))
  [ $i -lt 150 ] || fail "postgres did not start: $(tail -n 5 $HR$P/log)"
  sleep 0.2
done
pgb() { as_pg $BIN/pgbench -h 127.0.0.1 -p 5433 -U postgres "$@" postgres; }
pgb -i -s 1 -q >/tmp/pg.i 2>&1 || fail "pgbench -i failed: $(tail -n 5 /tmp/pg.i)"
mark "postgres serving, pgbench tables made"
# run WHEN: 200 transactions by 2 clients, every one processed, none failed.
run() {
  pgb -c 2 -t 100 -n >/tmp/pg.run 2>&1 || fail "pgbench $1: $(tail -n 8 /tmp/pg.run)"
  grep -q "number of transactions actually processed: 200/200" /tmp/pg.run || fail "pgbench $1: $(cat /tmp/pg.run)"
  grep -q "number of failed transactions: 0 " /tmp/pg.run || fail "pgbench $1 had failures: $(cat /tmp/pg.run)"
  echo "$1: pgbench $(sed -n 's/^tps = \([0-9.]*\).*/\1/p' /tmp/pg.run) tps, 200/200 transactions, 0 failed"
}
run unfiltered
sysfence policy apply --cgroup svc/pg --caps $DOCKER_CAPS "$DOCKER_PROFILE" || fail "applying Docker's profile failed"
run "under Docker's profile"
record_start /tmp/pg.rec --cgroup svc/pg --runtime-base none -o $P/pg.json
run "while recording" >/dev/null
# A checkpoint and a new connection's backend start are part of its life.
as_pg $BIN/psql -h 127.0.0.1 -p 5433 -U postgres -qc checkpoint postgres >/dev/null || fail "checkpoint failed"
record_stop /tmp/pg.rec
sysfence policy apply --cgroup svc/pg $P/pg.json || fail "applying the recorded profile failed"
run "under the recorded profile"
mark "the same results unfiltered, under Docker's profile and under the recorded one"

# Docker's profile again (it refuses nothing postgres does; the recorded
# one may refuse calls of work the recording did not cover, whose events
# would mix with this step's), then fsync denied.
sysfence policy apply --cgroup svc/pg --caps $DOCKER_CAPS "$DOCKER_PROFILE" || fail "applying Docker's profile failed"
events_start /tmp/pg.ev
printf 'default: allow\nrules:\n  - {syscalls: [fsync, fdatasync], action: errno, errno: 5}\n' >$HR$P/deny.yaml
sysfence policy apply --cgroup svc/pg $P/deny.yaml || fail "denying fsync failed"
if as_pg $BIN/psql -h 127.0.0.1 -p 5433 -U postgres -qc checkpoint postgres >/tmp/pg.cp 2>&1; then
  fail "a checkpoint succeeded with fsync denied"
fi
echo "checkpoint with fsync denied: $(head -n 1 /tmp/pg.cp)"
events_wait /tmp/pg.ev '"comm":"postgres".*"syscall":"f\(data\)\?sync"' "postgres's fsync"
events_stop
mark "fsync denied live: the checkpoint fails, the event names postgres"
sysfence policy delete --cgroup svc/pg >/dev/null
