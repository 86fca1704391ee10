# SPDX-License-Identifier: GPL-2.0
# budget: 110
# arm64: yes
# covers: kmod/ shared-abi/ manager/src/cli/events.rs
# Events: a subscriber sees denials, LOG hits, traps and kills with the
# task, call, arguments and action (native and compat ABI, on x86_64 and
# arm64); a burst is rate-limited per policy, and events received plus
# drops equal what the counters say.
. "$(dirname "$0")/lib.sh"
cg_new ev >/dev/null
id=$(stat -c %i /sys/fs/cgroup/ev)
cat >/tmp/events.policy <<'P'
default: allow
rules:
  - {syscalls: [getppid], action: errno, errno: 13}
  - {syscalls: [getpid], action: log}
  - {syscalls: [getuid], action: trap}
  - {syscalls: [getgid], action: kill-process}
P
apply ev </tmp/events.policy

# follow OUT: starts a subscriber writing NDJSON to OUT; sets $sub.
follow() {
  sysfence events --json --cgroup ev "$@" >"$out" 2>/tmp/events.err &
  sub=$!
  wait_subscribed "$sub"
}
# fields LINE: extracts the keys a test compares.
field() { echo "$1" | sed -E "s/.*\"$2\":\"?([^\",}]*)\"?.*/\1/"; }

# One event per eventful action, described exactly.
out=/tmp/events.one
follow --count 4 --duration 30
in_cg ev sf-syscall getppid 7 8 >/dev/null
in_cg ev sf-syscall getpid >/dev/null
in_cg ev sf-syscall getuid >/dev/null 2>&1 # getuid: SIGSYS
in_cg ev sf-syscall getgid >/dev/null 2>&1 # getgid: killed
wait "$sub" || fail "the subscriber failed: $(cat /tmp/events.err)"
[ "$(wc -l <"$out")" = 4 ] || fail "want 4 events, got: $(cat "$out")"
l=$(sed -n 1p "$out")
expect_eq "syscall" "$(field "$l" syscall)" getppid
expect_eq "action" "$(field "$l" action)" errno
expect_eq "errno" "$(field "$l" errno)" 13
expect_eq "abi" "$(field "$l" abi)" "$ARCH"
expect_eq "nr" "$(field "$l" nr)" "$(nr getppid)"
expect_eq "comm" "$(field "$l" comm)" sf-syscall
expect_eq "cgroup" "$(field "$l" cgroup)" "$id"
expect_eq "policy cgroup" "$(field "$l" policy_cgroup)" "$id"
echo "$l" | grep -q '"args":\["0x7","0x8","0x0"' || fail "arguments not reported: $l"
[ "$(field "$l" pid)" = "$(field "$l" tid)" ] || fail "pid/tid of a single-threaded task differ: $l"
expect_eq "log event" "$(sed -n 2p "$out" | sed -E 's/.*"syscall":"([a-z]+)".*"action":"([a-z-]+)".*/\1 \2/')" "getpid log"
expect_eq "trap event" "$(sed -n 3p "$out" | sed -E 's/.*"syscall":"([a-z]+)".*"action":"([a-z-]+)".*/\1 \2/')" "getuid trap"
expect_eq "kill event" "$(sed -n 4p "$out" | sed -E 's/.*"syscall":"([a-z]+)".*"action":"([a-z-]+)".*/\1 \2/')" "getgid kill-process"

# A compat call (ia32 on x86_64, an AArch32 program on arm64) is reported
# with its own ABI and number (getppid is 64 in both). Only getppid is
# eventful meanwhile: the AArch32 shell calls getpid too.
apply ev <<'P'
default: allow
rules:
  - {syscalls: [getppid], action: errno, errno: 13}
P
out=/tmp/events.compat
follow --count 1 --duration 30
expect_eq "$COMPAT_ABI getppid" "$(compat_getppid ev)" "err 13"
wait "$sub" || fail "the subscriber failed: $(cat /tmp/events.err)"
l=$(cat "$out")
expect_eq "$COMPAT_ABI abi" "$(field "$l" abi)" "$COMPAT_ABI"
expect_eq "$COMPAT_ABI nr" "$(field "$l" nr)" 64
expect_eq "$COMPAT_ABI name" "$(field "$l" syscall)" getppid
apply ev </tmp/events.policy

# A burst: 5000 denials, then 50 LOG hits. The rate limit lets at most
# 1000 per one-second window through (kmod/events.rs); the rest are counted
# as dropped, and received + dropped = the eventful decisions counted
# meanwhile. A burst of D seconds touches at most floor(D) + 2 windows
# (two when it takes under a second; on an emulated debug kernel it may
# take several).
uptime_cs() { read -r _u _ </proc/uptime && echo "${_u%.*}${_u#*.}"; }
before_sent=$(stat_of ev events_sent)
before_drop=$(stat_of ev events_dropped)
before_den=$(stat_of ev denied)
before_log=$(stat_of ev logged)
base=$(events_pending ev)
out=/tmp/events.burst
follow --duration 60
t0=$(uptime_cs)
in_cg ev sf-syscall --repeat 5000 getppid >/dev/null
in_cg ev sf-syscall --repeat 50 getpid >/dev/null
t1=$(uptime_cs)
# The ring's work item counts an event sent once it has multicast it,
# after the call returned: wait until every eventful decision is counted.
wait_for "the burst's events to be counted sent or dropped" events_settled ev "$base"
sent=$(($(stat_of ev events_sent) - before_sent))
dropped=$(($(stat_of ev events_dropped) - before_drop))
eventful=$(($(stat_of ev denied) - before_den + $(stat_of ev logged) - before_log))
# Every event sent reaches the subscriber (it ends with an error if it
# falls behind); then it is stopped.
i=0
while [ "$(wc -l <"$out")" -lt "$sent" ] && [ $i -lt 300 ] && kill -0 "$sub" 2>/dev/null; do
  i=$((i + 1))
  sleep 0.1
done
kill "$sub" 2>/dev/null || fail "the subscriber failed or fell behind: $(cat /tmp/events.err)"
wait "$sub"
got=$(wc -l <"$out")
windows=$(((t1 - t0) / 100 + 2))
echo "burst: $eventful eventful decisions in $((t1 - t0)) cs, $got events received, $sent sent, $dropped dropped"
expect_eq "received = sent" "$got" "$sent"
expect_eq "sent + dropped = eventful decisions" "$((sent + dropped))" "$eventful"
[ "$eventful" = 5050 ] || fail "want 5050 eventful decisions, counted $eventful"
[ "$dropped" -gt 0 ] || fail "the rate limit dropped nothing"
[ "$sent" -ge 900 ] || fail "only $sent events sent: the rate limit or the queue dropped too early"
[ "$sent" -le $((1000 * windows)) ] ||
  fail "rate limit not applied: $sent events sent in at most $windows one-second windows"

# Without a subscriber nothing is queued or counted as an event.
before=$(( $(stat_of ev events_sent) + $(stat_of ev events_dropped) ))
in_cg ev sf-syscall --repeat 100 getppid >/dev/null
expect_eq "no subscriber, no events" "$(( $(stat_of ev events_sent) + $(stat_of ev events_dropped) ))" "$before"

# Subscribing needs CAP_SYS_ADMIN.
out=$(su -s /bin/sh nobody -c 'sysfence events --duration 1' 2>&1) && fail "non-root subscribed to events"
echo "$out" | grep -q 'CAP_SYS_ADMIN' || fail "non-root refusal unclear: $out"

sysfence policy delete --cgroup ev 2>/dev/null || fail "delete failed"
rmdir /sys/fs/cgroup/ev
