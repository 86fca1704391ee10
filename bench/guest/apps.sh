# SPDX-License-Identifier: GPL-2.0
# Real applications side by side (issue 20), one application per boot of the
# bench kernel: `sh bench/guest/apps.sh nginx|redis|postgres`, run by
# bench/apps.sh. Debian's servers run through the host root (`chroot
# /host`), each case in a fresh cgroup of its own, on loopback; the load
# generator (wrk, redis-benchmark, pgbench) runs in another cgroup, `load`,
# which never has a policy. The cases, in this order:
#   bare      no filter, the module not loaded
#   seccomp   Docker's default profile as real seccomp: the filter libseccomp
#             builds from the profile as runc does
#             (tests/differential/seccomp-bpf.py), installed by
#             `sf-bench --seccomp ... --exec` before the server's execve
#   sysfence  the same profile through sysfence, applied live to the
#             server's cgroup with Docker's capability set
#   recorded  a profile `sysfence record` made from the server's own
#             warm-up traffic, applied live
#   path      Docker's profile plus an object path rule on a file the
#             server never opens, so every open it makes is checked
#   bare-end  no filter again, the module loaded and every policy gone: the
#             drift of the server's state over the boot, and the unfiltered
#             cost with the module loaded
# Each case: start the server (PostgreSQL: pgbench's tables made afresh),
# apply the policy, one warm-up run (recorded: the recording, and a second
# after it), then RUNS measured runs; the policy is removed before the
# server stops. A run reads the server cgroup's
# cpu.stat usage_usec before and after the load generator and prints
#   APP|app|workload|case|run|requests|errors|seconds|per_s|p50_us|p99_us|cpu_us
# and after each case
#   APPSTAT|app|case|denied|allowed
# the calls sysfence refused and allowed in the server's cgroup over the
# measured runs (-1: no policy).
# Knobs: APP_RUNS (5), APP_SECONDS (wrk's -d, 1), APP_REQUESTS
# (redis-benchmark's -n per test, 10000), APP_TRANSACTIONS (pgbench's -t per
# client, 250), APP_CASES (the list above).
set -e
APP=${1:?usage: apps.sh nginx|redis|postgres}
RUNS=${APP_RUNS:-5}
SECS=${APP_SECONDS:-1}
NREQ=${APP_REQUESTS:-10000}
NTX=${APP_TRANSACTIONS:-250}
CASES=${APP_CASES:-bare seccomp sysfence recorded path bare-end}
D=CAP_CHOWN,CAP_DAC_OVERRIDE,CAP_FSETID,CAP_FOWNER,CAP_MKNOD,CAP_NET_RAW,CAP_SETGID,CAP_SETUID,CAP_SETFCAP,CAP_SETPCAP,CAP_NET_BIND_SERVICE,CAP_SYS_CHROOT,CAP_KILL,CAP_AUDIT_WRITE
PROFILE=$SF_ROOT/tests/fixtures/docker-default.json
CG=/sys/fs/cgroup
HR=/host
# The guest's /run and /tmp are bound over the host root's (qemu/init), so
# these paths are the same inside and outside `chroot /host`.
W=/run/sf-apps
BIN=/usr/lib/postgresql/15/bin
h() { chroot $HR "$@"; }
fail() { echo "APPS-FAIL: $*" >&2; exit 1; }
ip link set lo up 2>/dev/null || true
mkdir -p $W "$CG/load"
# in_cg CGROUP CMD...: CMD in CGROUP, from a child that moves itself there
# (this shell stays in the root cgroup, which never has a policy).
in_cg() { _c=$1; shift; sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$CG/$_c" "$@"; }
usage_us() { sed -n 's/^usage_usec //p' "$CG/$1/cpu.stat"; }
# to_us VALUE: wrk's latency (123.45us, 1.20ms, 2.00s) in microseconds.
to_us() {
  echo "$1" | awk '/us$/ {print $0+0; next} /ms$/ {print ($0+0)*1000; next} /s$/ {print ($0+0)*1000000; next} {print $0+0}'
}

# The filter libseccomp builds from Docker's profile, as runc does.
h /usr/bin/python3 "${SF_ROOT#/host}/tests/differential/seccomp-bpf.py" \
  "${PROFILE#/host}" "$D" "$(uname -r)" /tmp/docker.bpf || fail "building the seccomp filter failed"
# Docker's profile with an object path rule: the profile as a native
# policy (the same decisions, Docker's capability set), plus a rule on a
# file no server here opens: every open of the server is checked, and
# allowed.
sysfence policy convert "$PROFILE" --to native --caps "$D" >$W/docker.yaml 2>/dev/null ||
  fail "converting Docker's profile failed"
grep -q '^objects:' $W/docker.yaml && fail "the converted profile already has objects: $(grep -A3 '^objects:' $W/docker.yaml)"
{
  cat $W/docker.yaml
  printf 'objects:\n  files:\n    - {prefix: /etc/shadow, action: errno, errno: 13}\n'
} >$W/docker-path.yaml
sysfence policy check $W/docker-path.yaml >/dev/null 2>&1 || fail "the path-rule policy does not check: $(sysfence policy check $W/docker-path.yaml 2>&1 | tail -n 3)"

# --- The applications: setup, start (in cgroup $1, command prefix $2...),
# ready check, stop, and one measured run printed as an APP line.
app_prepare() { :; }
case $APP in
nginx)
  mkdir -p $W/www
  # A 4 KiB page, static, as a small web asset.
  head -c 3072 /dev/urandom | base64 >$W/www/index.html
  cat >$W/nginx.conf <<C
daemon off; worker_processes 1; pid $W/nginx.pid; error_log $W/nginx.err;
events { worker_connections 256; }
http { access_log off; sendfile on; client_body_temp_path $W/b; proxy_temp_path $W/p;
  fastcgi_temp_path $W/f; uwsgi_temp_path $W/u; scgi_temp_path $W/s;
  server { listen 127.0.0.1:8080; root $W/www; } }
C
  app_cmd() { echo "chroot $HR nginx -e $W/nginx.err -c $W/nginx.conf"; }
  app_ready() { h curl -sf -o /dev/null --max-time 5 http://127.0.0.1:8080/; }
  app_load() {
    in_cg load chroot $HR wrk -t1 -c4 -d"${SECS}s" --latency http://127.0.0.1:8080/ >/tmp/apps.out 2>&1 ||
      fail "wrk: $(cat /tmp/apps.out)"
    _req=$(sed -n 's/^ *\([0-9]*\) requests in .*/\1/p' /tmp/apps.out)
    _sec=$(sed -n 's/^ *[0-9]* requests in \([0-9.]*[mu]*s\),.*/\1/p' /tmp/apps.out)
    _sec=$(awk -v u="$(to_us "$_sec")" 'BEGIN {printf "%.6f", u / 1e6}')
    _err=$(sed -n 's/^ *Non-2xx or 3xx responses: *\([0-9]*\).*/\1/p' /tmp/apps.out)
    _serr=$(sed -n 's/^ *Socket errors: connect \([0-9]*\), read \([0-9]*\), write \([0-9]*\), timeout \([0-9]*\).*/\1 \2 \3 \4/p' /tmp/apps.out)
    _err=$(echo "${_err:-0} $_serr" | awk '{s = 0; for (i = 1; i <= NF; i++) s += $i; print s}')
    _p50=$(to_us "$(awk '$1 == "50%" {print $2}' /tmp/apps.out)")
    _p99=$(to_us "$(awk '$1 == "99%" {print $2}' /tmp/apps.out)")
    [ -n "$_req" ] && [ -n "$_p99" ] || fail "wrk's output not understood: $(cat /tmp/apps.out)"
    LINES="http-get|$_req|$_err|$_sec|$_p50|$_p99"
  }
  ;;
redis)
  mkdir -p $W/redis
  printf 'port 6380\nbind 127.0.0.1\nsave ""\nappendonly no\ndir %s/redis\nlogfile %s/redis.log\n' $W $W >$W/redis.conf
  app_cmd() { echo "chroot $HR redis-server $W/redis.conf"; }
  app_ready() { h redis-cli -p 6380 ping 2>/dev/null | grep -q PONG; }
  # Two workloads per run, each with its own CPU reading: SET and GET.
  app_load() {
    LINES=
    for _t in set get; do
      _u0=$(usage_us "$SCG")
      in_cg load chroot $HR redis-benchmark -p 6380 -c 4 -n "$NREQ" -r 10000 -t $_t --csv >/tmp/apps.out 2>&1 ||
        fail "redis-benchmark: $(cat /tmp/apps.out)"
      _u1=$(usage_us "$SCG")
      _l=$(tr -d '"\r' </tmp/apps.out | awk -F, -v T="$(echo $_t | tr a-z A-Z)" '$1 == T {print}')
      [ -n "$_l" ] || fail "redis-benchmark's output not understood: $(cat /tmp/apps.out)"
      # test,rps,avg_ms,min_ms,p50_ms,p95_ms,p99_ms,max_ms
      LINES="$LINES $(echo "$_l" | awk -F, -v n="$NREQ" -v cpu=$((_u1 - _u0)) -v t=$_t \
        '{printf "%s|%d|0|%.6f|%.1f|%.1f|%d", t, n, n / $2, $5 * 1000, $7 * 1000, cpu}')"
    done
  }
  ;;
postgres)
  as_pg() { h /usr/bin/setpriv --reuid=postgres --regid=postgres --init-groups "$@"; }
  mkdir -p $W/pg $W/pglog
  h chown postgres:postgres $W/pg $W/pglog || fail "chown failed"
  as_pg $BIN/initdb --no-sync -A trust -U postgres -D $W/pg/data >/tmp/pg.init 2>&1 || fail "initdb: $(tail -n 5 /tmp/pg.init)"
  app_cmd() { echo "chroot $HR /usr/bin/setpriv --reuid=postgres --regid=postgres --init-groups $BIN/postgres -D $W/pg/data -k $W/pg -h 127.0.0.1 -p 5433 -c fsync=on -c full_page_writes=off -c logging_collector=off"; }
  app_ready() { as_pg $BIN/pg_isready -q -h 127.0.0.1 -p 5433; }
  # Every case starts from the same tables (TPC-B's updates and history
  # rows would otherwise make each case's database larger than the last).
  app_prepare() { pgb -i -s 1 -q >/tmp/pg.i 2>&1 || fail "pgbench -i: $(tail -n 5 /tmp/pg.i)"; }
  pgb() { in_cg load chroot $HR /usr/bin/setpriv --reuid=postgres --regid=postgres --init-groups $BIN/pgbench -h 127.0.0.1 -p 5433 -U postgres "$@" postgres; }
  app_load() {
    rm -f $W/pglog/tx*
    pgb -c 2 -j 1 -t "$NTX" -n -l --log-prefix=$W/pglog/tx >/tmp/apps.out 2>&1 || fail "pgbench: $(tail -n 8 /tmp/apps.out)"
    _req=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' /tmp/apps.out)
    _err=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' /tmp/apps.out)
    _tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' /tmp/apps.out)
    [ -n "$_req" ] && [ -n "$_tps" ] || fail "pgbench's output not understood: $(cat /tmp/apps.out)"
    # The per-transaction log: client, transaction, latency (us), ...
    set -- $(cat $W/pglog/tx* | awk '{print $3}' | sort -n | awk '{v[NR] = $1} END {
      i50 = int(NR * 0.50 + 0.999999); i99 = int(NR * 0.99 + 0.999999); print v[i50], v[i99]}')
    LINES="tpcb|$_req|${_err:-0}|$(awk -v n="$_req" -v t="$_tps" 'BEGIN {printf "%.6f", n / t}')|$1|$2"
  }
  ;;
*) fail "unknown application $APP" ;;
esac

# server_start CGROUP [--seccomp]: a fresh cgroup, the server started in it.
server_start() {
  SCG=$APP-$1
  [ -d "$CG/$SCG" ] && rmdir "$CG/$SCG"
  mkdir "$CG/$SCG"
  _sec=
  [ "${2:-}" = --seccomp ] && _sec="--seccomp /tmp/docker.bpf"
  # sf-bench --exec is the same wrapper in every case: with --seccomp it
  # installs the filter first, as runc does before the container's execve.
  # shellcheck disable=SC2046 # app_cmd is a command line of words
  sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$CG/$SCG" sf-bench $_sec --exec $(app_cmd) >$W/server.log 2>&1 &
  SPID=$!
  _i=0
  until app_ready; do
    _i=$((_i + 1))
    [ $_i -lt 150 ] && kill -0 $SPID 2>/dev/null || fail "$APP did not start ($1): $(tail -n 5 $W/server.log $W/*.err $W/*.log 2>/dev/null)"
    sleep 0.2
  done
}
# server_stop: kill everything in the server's cgroup and remove it (its
# policy goes with it).
server_stop() {
  if [ "$APP" = postgres ]; then
    as_pg $BIN/pg_ctl -D $W/pg/data -m fast -t 30 stop >/dev/null 2>&1 || true
  fi
  echo 1 >"$CG/$SCG/cgroup.kill"
  wait $SPID 2>/dev/null || true
  _i=0
  while ! grep -q '^populated 0' "$CG/$SCG/cgroup.events"; do
    _i=$((_i + 1))
    [ $_i -lt 100 ] || fail "$SCG did not empty"
    sleep 0.1
  done
  rmdir "$CG/$SCG"
}
# runs CASE: the measured runs, one APP line per workload and run. For
# nginx and postgres the run's CPU is read around the one load command;
# redis reads it around each of its two.
runs() {
  _r=1
  while [ $_r -le "$RUNS" ]; do
    _u0=$(usage_us "$SCG")
    app_load
    _u1=$(usage_us "$SCG")
    for _w in $LINES; do
      case $_w in
      *\|*\|*\|*\|*\|*\|*) echo "APP|$APP|$_w" | awk -F'|' -v c="$1" -v r=$_r \
        '{printf "APP|%s|%s|%s|%d|%s|%s|%s|%.1f|%s|%s|%s\n", $2, $3, c, r, $4, $5, $6, $4 / $6, $7, $8, $9}' ;;
      *) echo "APP|$APP|$_w" | awk -F'|' -v c="$1" -v r=$_r -v cpu=$((_u1 - _u0)) \
        '{printf "APP|%s|%s|%s|%d|%s|%s|%s|%.1f|%s|%s|%d\n", $2, $3, c, r, $4, $5, $6, $4 / $6, $7, $8, cpu}' ;;
      esac
    done
    _r=$((_r + 1))
  done
}
counts() {
  sysfence stats --cgroup "$SCG" --json 2>/dev/null | sed -E 's/.*"allowed":([0-9]+),"denied":([0-9]+).*/\2|\1/'
}

rmmod sysfence 2>/dev/null || true
for c in $CASES; do
  case $c in
  bare | seccomp) [ -d /sys/module/sysfence ] && rmmod sysfence ;;
  *) [ -d /sys/module/sysfence ] || insmod "$SF_KO" ;;
  esac
  case $c in
  seccomp) server_start $c --seccomp ;;
  *) server_start $c ;;
  esac
  app_prepare
  case $c in
  sysfence) sysfence policy apply --cgroup "$SCG" --caps "$D" "$PROFILE" >/dev/null 2>&1 || fail "applying Docker's profile failed" ;;
  path) sysfence policy apply --cgroup "$SCG" $W/docker-path.yaml >/dev/null 2>&1 || fail "applying the path-rule policy failed" ;;
  esac
  if [ $c = recorded ]; then
    # The warm-up is the recording: the profile is what this server did
    # under this load, then applied live.
    sysfence record --cgroup "$SCG" --runtime-base none --duration 600 -o $W/recorded.json 2>/tmp/apps.rec &
    _rp=$!
    _i=0
    until grep -q "recording cgroup" /tmp/apps.rec; do
      _i=$((_i + 1))
      [ $_i -lt 300 ] && kill -0 $_rp 2>/dev/null || fail "record did not start: $(cat /tmp/apps.rec)"
      sleep 0.1
    done
    app_load
    # What the server does when the client has gone (PostgreSQL's
    # backends exit) belongs to the same traffic.
    sleep 1
    kill -INT $_rp
    wait $_rp || fail "record failed: $(cat /tmp/apps.rec)"
    sysfence policy apply --cgroup "$SCG" $W/recorded.json >/dev/null 2>&1 || fail "applying the recorded profile failed"
    _n=$(h /usr/bin/python3 -c 'import json, sys
p = json.load(open(sys.argv[1]))
print(len({n for s in p["syscalls"] if s["action"] == "SCMP_ACT_ALLOW" for n in s["names"]}))' $W/recorded.json)
    _b=$(sed -n 's/^sysfence: x86_64: added what threads were blocked in when the recording began: //p' /tmp/apps.rec)
    echo "APPNOTE|$APP|the recorded profile allows $_n system calls${_b:+ (with $_b, which threads were blocked in when the recording began)}"
  else
    app_load
  fi
  _before=$(counts)
  runs $c
  if [ -d /sys/module/sysfence ] && sysfence stats --cgroup "$SCG" --json >/dev/null 2>&1; then
    _after=$(counts)
    echo "$_before|$_after" | awk -F'|' -v a="$APP" -v c="$c" '{printf "APPSTAT|%s|%s|%d|%d\n", a, c, $3 - $1, $4 - $2}'
    # The server stops unfiltered: how a recorded profile copes with a
    # shutdown it never saw is not what is measured here.
    sysfence policy delete --cgroup "$SCG" >/dev/null 2>&1
  else
    echo "APPSTAT|$APP|$c|-1|-1"
  fi
  server_stop
done
echo "APPS-DONE $APP"
