# SPDX-License-Identifier: GPL-2.0
# budget: 150
# arm64: yes
# covers: kmod/ shared-abi/ manager/src/policy/objects.rs
# Object rules: file opens (symlinks, hard links, .., dirfd, openat2, a
# racing path buffer), exec (symlink, execveat), socket creation, connect
# and bind (IPv4, IPv6, v4-mapped, Unix paths and abstract names), events,
# counters, a nested cgroup, a live change under a running workload, tasks
# outside untouched, and rmmod during an open/connect storm.
. "$(dirname "$0")/lib.sh"

rm -rf /tmp/o
mkdir -p /tmp/o/secret /tmp/o/pub /tmp/o/nocreate /tmp/o/nobind
# Names of 40 bytes or more are kept outside their dentry, shorter ones
# inside it: the path walk copies the two differently (sysfence_path.c).
LONG=a-directory-name-longer-than-a-dentry-keeps-inline
mkdir -p "/tmp/o/$LONG" "/tmp/o/secret/$LONG"
# The longest name kept inside a dentry (39 bytes) and the shortest kept
# outside (40), both in a rule's prefix.
N39=bbbbbbbbbb-name-of-thirty-nine-bytes-xx
N40=cccccccccc-name-of-exactly-forty-bytes-x
mkdir -p "/tmp/o/$N39/$N40"
echo b >"/tmp/o/$N39/$N40/key"
echo b >"/tmp/o/$N39/key"
echo l >"/tmp/o/$LONG/key"
echo l >"/tmp/o/secret/$LONG/key-with-a-name-longer-than-forty-bytes-too"
echo s >/tmp/o/secret/key
echo p >/tmp/o/pub/file
echo r >/tmp/o/pub/ro
echo n >/tmp/o/nocreate/existing
ln -s /tmp/o/secret/key /tmp/o/pub/link
cp "$(command -v sf-syscall)" /tmp/o/tool
ln -s /tmp/o/tool /tmp/o/toollink
cg_new obj >/dev/null
cg_new obj/child >/dev/null
cat >/tmp/obj.yaml <<'P'
default: allow
objects:
  files:
    - {prefix: /tmp/o/secret, access: [read, write], action: errno, errno: 13}
    - {path: /tmp/o/pub/ro, access: [write], action: errno, errno: 30}
    - {prefix: /tmp/o/nocreate, access: [create], action: errno, errno: 28}
    - {prefix: /tmp/o/a-directory-name-longer-than-a-dentry-keeps-inline, action: errno, errno: 13}
    - {prefix: /tmp/o/bbbbbbbbbb-name-of-thirty-nine-bytes-xx/cccccccccc-name-of-exactly-forty-bytes-x, action: errno, errno: 13}
  exec:
    - {path: /tmp/o/tool, action: errno, errno: 77}
  sockets:
    - {family: inet6, type: dgram, action: errno, errno: 94}
  connect:
    - {address: 127.0.0.2, ports: 1000-2000, action: errno, errno: 71}
    - {address: '::1', ports: 22, action: errno, errno: 72}
    - {unix: /tmp/o/sock, action: errno, errno: 73}
    - {unix: '@sfabs', action: errno, errno: 74}
  bind:
    - {family: inet, ports: 8000-8999, action: errno, errno: 75}
    - {unixPrefix: /tmp/o/nobind, action: errno, errno: 76}
P
sysfence policy apply --cgroup obj /tmp/obj.yaml 2>/dev/null || fail "applying object rules failed"
sysfence policy diff --cgroup obj /tmp/obj.yaml >/dev/null 2>&1 || fail "the live policy differs from the file"

o() { in_cg obj sf-obj "$@"; }
# Files.
expect_run "outside: secret" "ok" sf-obj open /tmp/o/secret/key
expect_run "secret" "err 13" o open /tmp/o/secret/key
expect_run "secret for writing" "err 13" o open /tmp/o/secret/key w
expect_run "public" "ok" o open /tmp/o/pub/file
expect_run "through a symlink" "err 13" o open /tmp/o/pub/link
expect_run "a long name in the rule's prefix" "err 13" o open "/tmp/o/$LONG/key"
expect_run "long names under a protected directory" "err 13" o open "/tmp/o/secret/$LONG/key-with-a-name-longer-than-forty-bytes-too"
expect_run "outside: the long names" "ok" sf-obj open "/tmp/o/$LONG/key"
expect_run "names of 39 and 40 bytes in the rule's prefix" "err 13" o open "/tmp/o/$N39/$N40/key"
expect_run "beside them" "ok" o open "/tmp/o/$N39/key"
expect_run "through .." "err 13" o open /tmp/o/pub/../secret/key
expect_run "openat with a dirfd" "err 13" o open secret/key --dirfd /tmp/o
expect_run "the protected directory itself" "err 13" o open /tmp/o/secret
expect_run "openat, dirfd and .." "err 13" o open ../secret/key --dirfd /tmp/o/pub
expect_run "openat2" "err 13" o open /tmp/o/secret/key --openat2
expect_run "openat2 with a dirfd" "err 13" o open ../secret/key --dirfd /tmp/o/pub --openat2
expect_run "read-only file, read" "ok" o open /tmp/o/pub/ro r
expect_run "read-only file, write" "err 30" o open /tmp/o/pub/ro w
expect_run "no creation" "err 28" o open /tmp/o/nocreate/new c
[ -e /tmp/o/nocreate/new ] && fail "the refused creation left a file"
expect_run "existing file there, write" "ok" o open /tmp/o/nocreate/existing w
expect_run "nested cgroup" "err 13" in_cg obj/child sf-obj open /tmp/o/secret/key
# A new name for the file would dodge the path: links and moves are refused.
in_cg obj ln /tmp/o/secret/key /tmp/o/pub/hard 2>/dev/null && fail "a hard link to a protected file was made"
[ -e /tmp/o/pub/hard ] && fail "the refused hard link exists"
in_cg obj mv /tmp/o/secret/key /tmp/o/pub/moved 2>/dev/null && fail "a protected file was moved out"
[ -e /tmp/o/secret/key ] || fail "the protected file was moved"
in_cg obj mv /tmp/o/pub/file /tmp/o/nocreate/file 2>/dev/null && fail "a file was moved into a no-create tree"
# A racing thread rewrites the path buffer during the call.
o race /tmp/o/pub/file /tmp/o/secret/key 3 >/tmp/race.out || fail "a racing open reached the protected file: $(cat /tmp/race.out)"
grep -q ' denied [1-9]' /tmp/race.out || fail "the race never tried the protected file: $(cat /tmp/race.out)"
echo "race: $(cat /tmp/race.out)"

# Exec (the program run makes getpid, by its native number).
getpid=39
[ "$(uname -m)" = aarch64 ] && getpid=172
expect_run "exec refused" "err 77" o exec /tmp/o/tool "$getpid"
expect_run "exec through a symlink" "err 77" o exec /tmp/o/toollink "$getpid"
expect_run "execveat" "err 77" o execveat /tmp/o tool "$getpid"
out=$(o exec "$(command -v sf-syscall)" "$getpid")
case "$out" in "ok "*) ;; *) fail "an allowed exec failed: $out" ;; esac
out=$(sf-obj exec /tmp/o/tool "$getpid")
case "$out" in "ok "*) ;; *) fail "exec outside the cgroup failed: $out" ;; esac

# Sockets.
expect_run "socket inet6 dgram" "err 94" o socket 10 2 0
expect_run "socket inet6 stream" "ok" o socket 10 1 0
expect_run "socket inet dgram" "ok" o socket 2 2 0
expect_run "connect 127.0.0.2:1500" "err 71" o connect inet 127.0.0.2 1500
expect_run "connect 127.0.0.2:3000" "err 111" o connect inet 127.0.0.2 3000
expect_run "connect 127.0.0.1:1500" "err 111" o connect inet 127.0.0.1 1500
expect_run "connect v4-mapped" "err 71" o connect inet6 127.0.0.2 1500
expect_run "connect [::1]:22" "err 72" o connect inet6 ::1 22
expect_run "connect [::1]:23" "err 111" o connect inet6 ::1 23
# Unix names are decided on the socket reached, so the peers must exist.
sf-attack unix-serve /tmp/o/sock @sfdummy1 30 >/dev/null &
srv1=$!
sf-attack unix-serve @sfabs @sfdummy2 30 >/dev/null &
srv2=$!
i=0
while { [ ! -S /tmp/o/sock ] || ! grep -q '@sfdummy2' /proc/net/unix; } && [ $i -lt 100 ]; do
  sleep 0.1
  i=$((i + 1))
done
expect_run "connect unix path" "err 73" o connect unix /tmp/o/sock
expect_run "connect other unix path" "err 2" o connect unix /tmp/o/other
expect_run "connect abstract" "err 74" o connect unix @sfabs
expect_run "connect other abstract" "err 111" o connect unix @sfother
kill "$srv1" "$srv2" 2>/dev/null
wait "$srv1" "$srv2" 2>/dev/null
expect_run "outside: connect" "err 111" sf-obj connect inet 127.0.0.2 1500
expect_run "bind 8080" "err 75" o bind inet 127.0.0.1 8080
expect_run "bind 9090" "ok" o bind inet 127.0.0.1 9090
expect_run "bind unix under a prefix" "err 76" o bind unix /tmp/o/nobind/s
expect_run "bind unix elsewhere" "ok" o bind unix /tmp/o/pub/s

# Events and counters.
sysfence events --json --cgroup obj --count 1 --duration 20 >/tmp/obj.events &
sub=$!
wait_subscribed "$sub"
o open /tmp/o/secret/key >/dev/null
wait "$sub" || fail "no event for a refused open"
grep -q '"action":"errno","errno":13,"object_class":"file","object":"/tmp/o/secret/key"' /tmp/obj.events ||
  fail "event does not name the object: $(cat /tmp/obj.events)"
grep -q '"syscall":"open' /tmp/obj.events || fail "event does not name the syscall: $(cat /tmp/obj.events)"
[ "$(stat_of obj denied)" -gt 20 ] || fail "denials not counted: $(sysfence stats --cgroup obj)"

# Live change under a running workload.
rm -f /tmp/o/stop
spawn_in_cg obj sh -c 'while [ ! -e /tmp/o/stop ]; do sf-obj open /tmp/o/secret/key; sleep 0.1; done' >/tmp/live.out &
w=$!
wait_line /tmp/live.out 'err 13' "workload not refused"
printf 'default: allow\n' | apply obj
wait_line /tmp/live.out '^ok' "rule removal not seen live"
sysfence policy apply --cgroup obj /tmp/obj.yaml 2>/dev/null
wait_line /tmp/live.out 'err 13' "rule not back live"
touch /tmp/o/stop
wait "$w"

# rmmod during an open/connect storm inside and outside the cgroup.
spawn_in_cg obj sf-obj storm 6 /tmp/o/secret/key 1500 >/tmp/storm1 &
s1=$!
sf-obj storm 6 /tmp/o/secret/key 1500 >/tmp/storm2 &
s2=$!
sleep 2
rmmod sysfence || fail "rmmod during the storm failed"
wait "$s1" "$s2"
grep -q '^storm [1-9]' /tmp/storm1 || fail "storm did not run: $(cat /tmp/storm1)"
insmod "$SF_KO" || fail "insmod after the storm failed"
expect_run "after reload: unfiltered" "ok" o open /tmp/o/secret/key

# Hooks per object class: a class no policy names has no hook (other
# tasks' sends cost nothing under file rules), a class's hooks are on
# before a policy naming it is in force, and those of a class no policy
# names any more go after 2 s (a restart does not pay for them twice).
# hooked PATTERN: how many functions matching it sysfence's ftrace_ops is on
# (ftrace lists every function some ops is on; nothing else hooks these).
hooked() { grep -cE "^($1) \(" /sys/kernel/tracing/enabled_functions; }
# hooked_after PATTERN N: the count once it is N, within 5 s.
hooked_after() {
  _w=0
  while [ "$(hooked "$1")" != "$2" ] && [ "$_w" -lt 50 ]; do
    sleep 0.1
    _w=$((_w + 1))
  done
  hooked "$1"
}
printf 'default: allow\nobjects:\n  files:\n    - {prefix: /tmp/o/secret, action: errno, errno: 13}\n' | apply obj
expect_eq "file rules only: the open hook" "$(hooked 'security_file_open')" 1
expect_eq "file rules only: no connect or send hook" "$(hooked 'security_socket_(connect|sendmsg)')" 0
expect_run "file rules only: the file rule" "err 13" o open /tmp/o/secret/key
expect_run "file rules only: connect undecided" "err 111" o connect inet 127.0.0.2 1500
printf 'default: allow\nobjects:\n  files:\n    - {prefix: /tmp/o/secret, action: errno, errno: 13}\n  connect:\n    - {address: 127.0.0.2, ports: 1000-2000, action: errno, errno: 71}\n' | apply obj
expect_eq "a connect rule added: its hooks" "$(hooked 'security_socket_(connect|sendmsg)')" 2
expect_run "a connect rule added: in force at once" "err 71" o connect inet 127.0.0.2 1500
printf 'default: allow\nobjects:\n  connect:\n    - {address: 127.0.0.2, ports: 1000-2000, action: errno, errno: 71}\n' | apply obj
expect_eq "file rules removed: no open hook after the delay" "$(hooked_after 'security_file_open' 0)" 0
expect_run "file rules removed: the file opens" "ok" o open /tmp/o/secret/key
sysfence policy delete --cgroup obj
expect_eq "no policy: no hook after the delay" "$(hooked_after 'security_[a-z_]*' 0)" 0
rmdir /sys/fs/cgroup/obj/child /sys/fs/cgroup/obj
rm -rf /tmp/o
exit 0
