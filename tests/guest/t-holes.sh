# SPDX-License-Identifier: GPL-2.0
# budget: 120
# covers: kmod/ shared-abi/ manager/src/policy/objects.rs
# The routes around a rule that issue 17's review found, one class per
# section, each tried from a cgroup without the policy first (the attack
# works there) and then under it: file names the task controls (chroot,
# bind mounts, pivot_root), file operations beyond open (RENAME_EXCHANGE,
# renames over and of ancestors, O_TRUNC, truncate, unlink, O_PATH
# reopen), Unix sockets by any name, addresses reached without connect,
# kills that a PID-namespace init, a tracer or a racing sigaction() would
# survive, integer arguments with high bits, the vsyscall page, and object
# hooks out of return instances. docs/SECURITY.md has the table.
. "$(dirname "$0")/lib.sh"

rm -rf /tmp/h
mkdir -p /tmp/h/etc /tmp/h/pub /tmp/h/dir/in /tmp/h/run/sub /tmp/h/mnt
echo secret >/tmp/h/etc/shadow
echo keep >/tmp/h/etc/ro
echo inner >/tmp/h/dir/in/file
echo swap >/tmp/h/pub/swap
cg_new holes >/dev/null
cg_new plainh >/dev/null
cat >/tmp/holes.yaml <<'P'
default: allow
rules:
  - {syscalls: [socket], action: errno, errno: 97, args: [{index: 0, op: eq, value: 17}]}
  - {syscalls: [gettimeofday, time], action: errno, errno: 1}
objects:
  files:
    - {path: /tmp/h/etc/shadow, access: [read, write], action: errno, errno: 13}
    - {path: /tmp/h/etc/ro, access: [write], action: errno, errno: 30}
    - {prefix: /tmp/h/dir/in, access: [read, write], action: errno, errno: 13}
  connect:
    - {address: 127.0.0.3, ports: 1000-2000, action: errno, errno: 71}
    - {address: 127.0.0.1, ports: 1500, action: errno, errno: 71}
    - {address: '::1', ports: 1500, action: errno, errno: 72}
    - {unix: /tmp/h/run/d.sock, action: errno, errno: 73}
    - {unix: /tmp/h/run/d.dgram, action: errno, errno: 73}
P
sysfence policy apply --cgroup holes /tmp/holes.yaml 2>/dev/null || fail "applying the policy failed"
h() { in_cg holes sf-attack "$@"; }
p() { in_cg plainh sf-attack "$@"; }

# --- Names the task controls --------------------------------------------------
mark "chroot, bind mounts, pivot_root"
expect_run "chroot without the policy" "ok secret" p chroot-read /tmp/h /etc/shadow
expect_run "a protected file read after chroot" "err 13" h chroot-read /tmp/h /etc/shadow
expect_run "a protected directory read after chroot" "err 13" h chroot-read /tmp/h/dir /in/file
expect_run "bind mount without the policy" "ok secret" p bind-read /tmp/h/etc /tmp/h/mnt /tmp/h/mnt/shadow
expect_run "a bind mount giving the file a new name" "err 13" h bind-read /tmp/h/etc /tmp/h/mnt /tmp/h/mnt/shadow
mkdir -p /tmp/h/newroot/old
expect_run "pivot_root (its bind mount first)" "err 13" h pivot-read /tmp/h/newroot old /old/tmp/h/etc/shadow

# --- File operations beyond open -------------------------------------------
mark "file operations"
expect_run "RENAME_EXCHANGE without the policy" "ok" p rename-exchange /tmp/h/pub/swap /tmp/h/etc/ro
expect_run "... and back" "ok" p rename-exchange /tmp/h/pub/swap /tmp/h/etc/ro
expect_run "RENAME_EXCHANGE of a protected file" "err 13" h rename-exchange /tmp/h/etc/shadow /tmp/h/pub/swap
expect_run "RENAME_EXCHANGE onto a protected file" "err 13" h rename-exchange /tmp/h/pub/swap /tmp/h/etc/shadow
expect_run "RENAME_EXCHANGE onto a write-protected file" "err 30" h rename-exchange /tmp/h/pub/swap /tmp/h/etc/ro
echo evil >/tmp/h/pub/evil
expect_run "rename over a protected file" "err 13" h rename /tmp/h/pub/evil /tmp/h/etc/shadow
expect_run "rename of the protected file's directory" "err 13" h rename /tmp/h/etc /tmp/h/etc2
expect_run "rename of a protected prefix's ancestor" "err 13" h rename /tmp/h/dir /tmp/h/dir2
expect_run "rename of an unrelated directory" "ok" h rename /tmp/h/run/sub /tmp/h/run/sub2
expect_run "O_RDONLY|O_TRUNC without the policy" "ok" p open-trunc /tmp/h/pub/evil
expect_run "O_RDONLY|O_TRUNC of a write-protected file" "err 30" h open-trunc /tmp/h/etc/ro
expect_run "truncate(2) of a write-protected file" "err 30" h truncate /tmp/h/etc/ro
expect_run "unlink of a write-protected file" "err 30" h unlink /tmp/h/etc/ro
expect_run "a hard link to a protected file" "err 13" h link /tmp/h/etc/shadow /tmp/h/pub/l
expect_run "O_PATH then /proc/self/fd reopen without the policy" "ok secret" p opath-reopen /tmp/h/etc/shadow
expect_run "O_PATH then /proc/self/fd reopen" "err 13" h opath-reopen /tmp/h/etc/shadow
expect_eq "the write-protected file is intact" "$(cat /tmp/h/etc/ro)" "keep"
expect_eq "the protected file is intact" "$(cat /tmp/h/etc/shadow)" "secret"
# A write-protected file is still readable.
expect_run "reading a write-protected file" "ok keep" h read /tmp/h/etc/ro

# --- Unix sockets by any name -------------------------------------------------
mark "unix sockets"
sf-attack unix-serve /tmp/h/run/d.sock /tmp/h/run/d.dgram 60 >/dev/null &
server=$!
i=0
while [ ! -S /tmp/h/run/d.dgram ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
ln -s /tmp/h/run/d.sock /tmp/h/pub/link.sock
expect_run "connect without the policy" "ok" p unix-connect /tmp/h/run/d.sock
expect_run "sendto without the policy" "ok" p unix-sendto /tmp/h/run/d.dgram
for name in /tmp/h/run/d.sock /tmp/h/run//d.sock /tmp/h/run/./d.sock /tmp/h/run/sub2/../d.sock /tmp/h/pub/link.sock; do
  expect_run "connect to $name" "err 73" h unix-connect "$name"
done
out=$(in_cg holes sh -c 'cd /tmp/h/run && exec sf-attack unix-connect d.sock')
expect_eq "connect by a relative name" "$out" "err 73"
expect_run "datagram sendto" "err 73" h unix-sendto /tmp/h/run//d.dgram
kill "$server" 2>/dev/null
wait "$server" 2>/dev/null

# --- Addresses reached without connect ------------------------------------------
mark "sendto, fast open, this host"
expect_run "UDP sendto without the policy" "ok" p udp-sendto 127.0.0.3 1500
expect_run "UDP sendto to a denied address" "err 71" h udp-sendto 127.0.0.3 1500
expect_run "UDP sendto, v4-mapped" "err 71" h udp-sendto ::ffff:127.0.0.3 1500
expect_run "TCP Fast Open to a denied address" "err 71" h tcp-fastopen 127.0.0.3 1500
expect_run "UDP sendto 0.0.0.0 (this host) against a 127.0.0.1 rule" "err 71" h udp-sendto 0.0.0.0 1500
expect_run "connect 0.0.0.0 against a 127.0.0.1 rule" "err 71" h tcp-connect 0.0.0.0 1500
expect_run "UDP sendto :: against a ::1 rule" "err 72" h udp-sendto :: 1500
expect_run "an allowed address" "ok" h udp-sendto 127.0.0.4 1500

# --- Integer arguments with high bits ----------------------------------------
mark "argument widths"
# (17 is AF_PACKET, 2 SOCK_DGRAM; the rule names family 17.)
out=$(p socket-hi 17 2)
case $out in "ok "*) ;; *) fail "socket(AF_PACKET | 1<<32) without the policy: $out" ;; esac
expect_run "socket(AF_PACKET | 1<<32) past a rule on AF_PACKET" "err 97" h socket-hi 17 2
out=$(h socket-hi 2 2)
case $out in "ok "*) ;; *) fail "socket(AF_INET | 1<<32) is refused, yet not AF_PACKET: $out" ;; esac

# --- The vsyscall page --------------------------------------------------------
mark "vsyscall"
out=$(p vsyscall time)
case $out in "ok "*) ;; *) fail "vsyscall time() without the policy: $out" ;; esac
expect_signal "vsyscall time() under a deny" 31 h vsyscall time
expect_signal "vsyscall gettimeofday() under a deny" 31 h vsyscall gettimeofday
out=$(h vsyscall getcpu)
expect_eq "vsyscall getcpu() (allowed)" "$out" "ok 0"

# --- Kill means kill --------------------------------------------------------------
mark "kills"
cg_new kk >/dev/null
echo 'default: allow
rules:
  - {syscalls: [getppid], action: trap}' | apply kk
# An ordinary SIGSYS (the trap action) is survived by a PID-namespace init
# and caught by a handler: what a kill sent the same way would be.
expect_run "trap: a PID-namespace init survives an ordinary SIGSYS" "survived
exit 0" in_cg kk sf-attack pidns-init 110
expect_run "trap: a handler catches it" "caught" in_cg kk sf-attack sigsys-handler 110
echo 'default: allow
rules:
  - {syscalls: [getppid], action: kill-process}' | apply kk
expect_run "kill-process of a PID-namespace init" "signal 31" in_cg kk sf-attack pidns-init 110
expect_run "kill-process of a traced task whose tracer swallows signals" "signal 31" in_cg kk sf-attack traced 110
expect_run "kill-process of a traced PID-namespace init" "signal 31" in_cg kk sf-attack pidns-init-traced 110
expect_signal "kill-process with a handler installed" 31 in_cg kk sf-attack sigsys-handler 110
n=0
for i in 1 2 3 4 5 6 7 8 9 10; do
  out=$(in_cg kk sf-attack sigaction-race 110 20 2>/dev/null)
  rc=$?
  case "$rc $out" in "159 ") ;; *) n=$((n + 1)) ;; esac
done
expect_eq "kill-process survived a racing sigaction()" "$n of 10" "0 of 10"
sysfence policy delete --cgroup kk
rmdir /sys/fs/cgroup/kk

# --- Object hooks under concurrency -------------------------------------------
# The hooks decide at the hooked function's entry and keep nothing per call:
# no pool that tasks inside an open at once could use up (the kretprobes of
# before had 1,024 return instances per function). Four storms opening a
# refused file at once: not one open gets through, and kprobes skipped no
# hit; the same storm outside the policy opens it.
mark "concurrent opens"
for i in 1 2 3 4; do
  in_cg holes sf-obj storm 2 /tmp/h/etc/shadow 9 >/tmp/hs$i &
done
in_cg plainh sf-obj storm 1 /tmp/h/etc/shadow 9 >/tmp/hs0
wait
grep -qE '^storm [0-9]+ opened [1-9]' /tmp/hs0 || fail "the storm outside the policy opened nothing: $(cat /tmp/hs0)"
for i in 1 2 3 4; do
  grep -qE '^storm [1-9][0-9]* opened 0$' /tmp/hs$i || fail "storm $i under the policy: $(cat /tmp/hs$i)"
done
unchecked=$(sysfence status --json | sed -E 's/.*"objects_unchecked":([0-9]+).*/\1/')
expect_eq "hook hits skipped during the storms" "$unchecked" "0"
sysfence policy delete --cgroup holes
rm -f /tmp/hs0 /tmp/hs1 /tmp/hs2 /tmp/hs3 /tmp/hs4

rmdir /sys/fs/cgroup/holes /sys/fs/cgroup/plainh
rm -rf /tmp/h /tmp/holes.yaml
echo "t-holes: every route refused under the policy"
