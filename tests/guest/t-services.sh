# SPDX-License-Identifier: GPL-2.0
# budget: 300
# kernel: bench
# covers: kmod/gate.rs kmod/hooks.rs manager/src/cli/record.rs manager/src/policy/oci.rs
# Real services under real profiles (Debian's nginx and redis-server,
# through the host root, each in a cgroup of its own, on loopback), driven
# by their own clients:
# - under Docker's default profile through sysfence they serve exactly what
#   they serve unfiltered (the same page, the same values, every request);
# - a profile recorded from that traffic is applied live and they keep
#   serving;
# - one call a service needs, denied live: its client sees the failure and
#   the event names the program.
# On the bench kernel, as the container engines' tests: a real service's
# start-up and clients are userland work the debug kernel makes slow.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/containers.sh"
host_env_up
ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up
host_sysfence
S=/run/sf-svc
mkdir -p $HR$S/www $HR$S/redis
ev_pid=
trap 'kill $NGINX $REDIS $ev_pid 2>/dev/null; wait 2>/dev/null; host_env_down' EXIT
h() { chroot $HR "$@"; }

# nginx: a master and one worker, every path under $S.
head -c 20000 /dev/urandom | od -An -x >$HR$S/www/index.html
cat >$HR$S/nginx.conf <<C
daemon off; worker_processes 1; pid $S/nginx.pid; error_log $S/nginx.err;
events { worker_connections 64; }
http { access_log off; client_body_temp_path $S/b; proxy_temp_path $S/p;
  fastcgi_temp_path $S/f; uwsgi_temp_path $S/u; scgi_temp_path $S/s;
  server { listen 127.0.0.1:8080; root $S/www; } }
C
cg_new svc/nginx >/dev/null
cg_new svc/redis >/dev/null
(echo 0 >/sys/fs/cgroup/svc/nginx/cgroup.procs && exec chroot $HR nginx -e $S/nginx.err -c $S/nginx.conf) &
NGINX=$!
(echo 0 >/sys/fs/cgroup/svc/redis/cgroup.procs && exec chroot $HR redis-server --port 6380 --bind 127.0.0.1 --save '' --appendonly no --dir $S/redis --logfile $S/redis.log) &
REDIS=$!
i=0
until h curl -sf -o /dev/null http://127.0.0.1:8080/ && h redis-cli -p 6380 ping >/dev/null 2>&1; do
  i=$((i + 1))
  [ $i -lt 100 ] || fail "nginx or redis did not start: $(cat $HR$S/nginx.err $HR$S/redis.log 2>/dev/null | tail -n 5)"
  sleep 0.2
done
mark "nginx and redis-server serving"

want=$(md5sum <$HR$S/www/index.html | cut -d" " -f1)
# check WHEN: the page, 200 GETs by wrk without an error, and redis
# values set and read back by redis-benchmark and redis-cli.
check() {
  got=$(h curl -sf --max-time 20 http://127.0.0.1:8080/ | md5sum | cut -d" " -f1)
  expect_eq "nginx's page $1" "$got" "$want"
  h timeout 60 wrk -t1 -c2 -d2s http://127.0.0.1:8080/ >/tmp/svc.wrk 2>&1 || fail "wrk $1: $(cat /tmp/svc.wrk)"
  grep -q "requests in" /tmp/svc.wrk || fail "wrk $1: $(cat /tmp/svc.wrk)"
  ! grep -q "Non-2xx\|Socket errors" /tmp/svc.wrk || fail "wrk $1 saw errors: $(cat /tmp/svc.wrk)"
  h timeout 60 redis-benchmark -p 6380 -n 2000 -c 4 -q -t set,get,lpush >/tmp/svc.rb 2>&1 || fail "redis-benchmark $1: $(cat /tmp/svc.rb)"
  [ "$(grep -c "requests per second" /tmp/svc.rb)" = 3 ] || fail "redis-benchmark $1: $(cat /tmp/svc.rb)"
  h timeout 20 redis-cli -p 6380 set sf-key "value $1" >/dev/null
  expect_eq "redis GET $1" "$(h timeout 20 redis-cli -p 6380 get sf-key)" "value $1"
  echo "$1: nginx $(sed -n 's/^Requests\/sec: *//p' /tmp/svc.wrk) req/s; redis $(tr '\r' '\n' </tmp/svc.rb | grep -o '^[A-Z]*: [0-9.]* requests per second' | tr '\n' ' ')"
}
check unfiltered

sysfence policy apply --cgroup svc/nginx --caps $DOCKER_CAPS "$DOCKER_PROFILE" || fail "applying Docker's profile to nginx failed"
sysfence policy apply --cgroup svc/redis --caps $DOCKER_CAPS "$DOCKER_PROFILE" || fail "applying Docker's profile to redis failed"
check "under Docker's profile"
mark "the same answers under Docker's default profile"

# Record each from its own traffic, then apply the recordings live.
record_start /tmp/svc.rec1 --cgroup svc/nginx --runtime-base none -o $S/nginx.json
rec1=$rec_pid
record_start /tmp/svc.rec2 --cgroup svc/redis --runtime-base none -o $S/redis.json
rec2=$rec_pid
check "while recording" >/dev/null
rec_pid=$rec1 record_stop /tmp/svc.rec1
rec_pid=$rec2 record_stop /tmp/svc.rec2
# What their sleeping threads were blocked in when the recording began.
sed -n 's/^sysfence: x86_64: added what threads were blocked in when the recording began: /nginx blocked in: /p' /tmp/svc.rec1
sed -n 's/^sysfence: x86_64: added what threads were blocked in when the recording began: /redis blocked in: /p' /tmp/svc.rec2
sysfence policy apply --cgroup svc/nginx $S/nginx.json || fail "applying nginx's recorded profile failed"
sysfence policy apply --cgroup svc/redis $S/redis.json || fail "applying redis's recorded profile failed"
echo "recorded: nginx $(grep -c '"' $HR$S/nginx.json) lines, redis $(grep -c '"' $HR$S/redis.json) lines"
check "under the recorded profiles"
mark "recorded profiles applied live: still serving"

# One call each needs, denied live: nginx cannot open the page (403),
# redis cannot write its replies; the events name the programs. The
# reader starts once the denials replace the recorded profiles, which
# still refuse calls of periodic work the recording did not cover
# (jemalloc's purge in redis-server: madvise), so that only this step's
# refusals are read.
printf 'default: allow\nrules:\n  - {syscalls: [openat], action: errno, errno: 13}\n' >$HR$S/deny-open.yaml
printf 'default: allow\nrules:\n  - {syscalls: [write, writev], action: errno, errno: 5}\n' >$HR$S/deny-write.yaml
sysfence policy apply --cgroup svc/nginx $S/deny-open.yaml || fail "denying openat failed"
sysfence policy apply --cgroup svc/redis $S/deny-write.yaml || fail "denying write failed"
events_start /tmp/svc.ev
code=$(h curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:8080/)
expect_eq "nginx's answer with openat denied" "$code" 403
if h timeout 5 redis-cli -p 6380 ping >/tmp/svc.ping 2>&1 && grep -q PONG /tmp/svc.ping; then
  fail "redis answered with write denied"
fi
events_wait /tmp/svc.ev '"comm":"nginx".*"syscall":"openat"' "nginx's openat"
events_wait /tmp/svc.ev '"comm":"redis-server".*"syscall":"write' "redis-server's write"
events_stop
mark "a needed call denied live: 403 from nginx, no reply from redis, events name nginx and redis-server"
sysfence policy delete --cgroup svc/nginx >/dev/null
sysfence policy delete --cgroup svc/redis >/dev/null
