# SPDX-License-Identifier: GPL-2.0
# budget: 430
# covers: kmod/ shared-abi/ manager/src/cli/shadow.rs manager/src/cli/policy.rs manager/src/cli/events.rs
# Shadow policies on a live workload: a candidate set beside the enforcing
# policy changes nothing the tasks see, records exactly the calls it would
# decide differently (counts, programs, shadow events that agree with the
# counters), and a promote swaps the two in one step, back and forth. A
# shadow on a cgroup without a policy, object rules in a shadow, and the
# atomicity of promote under hammering threads (every call answered by one
# version, thousands of promotes).
. "$(dirname "$0")/lib.sh"
cg_new sh >/dev/null
# Enforcing: getpid refused (errno 1). Candidate: getpid allowed, getppid
# refused (errno 13).
apply sh <<'P'
default: allow
rules:
  - {syscalls: [getpid], action: errno, errno: 1}
P
cat >/tmp/cand.yaml <<'P'
default: allow
rules:
  - {syscalls: [getppid], action: errno, errno: 13}
P
report() { sysfence policy shadow-report --cgroup sh "$@"; }
# num KEY: a top-level count of the report's JSON, printed on one line as
# every --json is (differed, events_sent... occur once, before the list).
num() { sed -nE "s/.*\"$1\":([0-9]+).*/\1/p" | head -n1; }
# first CMD...: the first word of CMD's output (sf-syscall's "ok" or "err").
first() { "$@" 2>&1 | cut -d" " -f1; }

# A subscriber from before the shadow is set sees all its events.
sysfence events --json --cgroup sh >/tmp/sh.ev 2>/tmp/sh.everr &
sub=$!
wait_subscribed "$sub"
sysfence policy apply --cgroup sh --shadow /tmp/cand.yaml 2>/dev/null || fail "setting the shadow failed"
sysfence policy list | grep -Eq " in force, shadow$" || fail "list does not show the shadow: $(sysfence policy list)"
sysfence policy get --cgroup sh --shadow | grep -q getppid || fail "get --shadow does not show the candidate"
report >/dev/null || fail "a fresh record, before any call, is not clean"

# The workload sees only the enforcing answers.
expect_run "getppid under the shadow" "ok" first in_cg sh sf-syscall --repeat 500 110
expect_run "getpid under the shadow" "err 1" in_cg sh sf-syscall --repeat 3 39
mark "workload done"
# The ring's work item counts a shadow event sent once it has multicast it,
# after the call returned: wait until every differing call is counted as an
# event sent or dropped, and the subscriber has read those sent (and the
# enforcing policy's own events are counted too).
shadow_settled() {
  kill -0 "$sub" 2>/dev/null || fail "the subscriber ended early: $(cat /tmp/sh.everr)"
  report --json >/tmp/sh.rep
  _s=$(num events_sent </tmp/sh.rep)
  [ "$((_s + $(num events_dropped </tmp/sh.rep)))" -ge "$(num differed </tmp/sh.rep)" ] &&
    [ "$(grep -c '"shadow":true' /tmp/sh.ev)" -ge "$_s" ] && events_settled sh
}
wait_for "the shadow events to be counted and read" shadow_settled
kill "$sub" 2>/dev/null || fail "the subscriber ended early: $(cat /tmp/sh.everr)"
wait "$sub"
[ -s /tmp/sh.everr ] && fail "the subscriber reported: $(cat /tmp/sh.everr)"

report --json >/tmp/sh.rep
rc=$?
expect_eq "shadow-report exit status with differences" "$rc" 4
report >/tmp/sh.txt
grep -E " getppid +errno\(13\) +allow .*sf-syscall" /tmp/sh.txt >/dev/null || fail "getppid's difference is not itemized: $(cat /tmp/sh.txt)"
grep -E "^ +3  x86_64 +getpid +allow +errno\(1\) " /tmp/sh.txt >/dev/null || fail "getpid's difference is not 3 calls: $(cat /tmp/sh.txt)"
ppid_calls=$(grep -E " getppid " /tmp/sh.txt | awk '{print $1}')
[ "$ppid_calls" -ge 500 ] && [ "$ppid_calls" -le 510 ] || fail "getppid counted $ppid_calls times, want the workload's 500 (and the shell's few)"
differed=$(num differed </tmp/sh.rep)
sent=$(num events_sent </tmp/sh.rep)
dropped=$(num events_dropped </tmp/sh.rep)
got=$(grep -c '"shadow":true' /tmp/sh.ev)
echo "differed $differed, shadow events sent $sent dropped $dropped, received $got"
expect_eq "differing calls = itemized" "$differed" "$((ppid_calls + 3))"
expect_eq "shadow events received = sent" "$got" "$sent"
expect_eq "sent + dropped = differing calls" "$((sent + dropped))" "$differed"
grep '"shadow":true' /tmp/sh.ev | grep -q '"syscall":"getpid".*"action":"allow".*"enforced":"errno(1)"' || fail "no shadow event for getpid: $(head -c 600 /tmp/sh.ev)"
grep -v '"shadow":true' /tmp/sh.ev | grep -q '"syscall":"getpid"' || fail "the enforcing policy's own events are missing"

# Promote: the candidate enforces, the old policy is the shadow, with an
# empty record; promote again rolls back.
sysfence policy promote --cgroup sh 2>/dev/null || fail "promote failed"
report >/dev/null || fail "the record after a promote is not clean"
expect_run "getppid after promote" "err 13" in_cg sh sf-syscall 110
expect_run "getpid after promote" "ok" first in_cg sh sf-syscall 39
report | grep -Eq " getpid +errno\(1\) +allow " || fail "the old policy, now the shadow, did not record getpid"
sysfence policy promote --cgroup sh 2>/dev/null || fail "promote back failed"
expect_run "getppid after rollback" "ok" first in_cg sh sf-syscall 110
expect_run "getpid after rollback" "err 1" in_cg sh sf-syscall 39
sysfence policy discard-shadow --cgroup sh 2>/dev/null || fail "discard-shadow failed"
out=$(report 2>&1) && fail "a report without a shadow succeeded"
echo "$out" | grep -q "has no shadow policy" || fail "unclear error without a shadow: $out"
sysfence policy promote --cgroup sh 2>&1 | grep -q "has no shadow policy" || fail "promote without a shadow is not refused clearly"
expect_run "getpid after discard" "err 1" in_cg sh sf-syscall 39
mark "promote and rollback done"

# A shadow where no policy is: tasks unfiltered; promote enforces it; the
# shadow left is "no policy"; promote again unfilters; discard removes all.
cg_new free >/dev/null
sysfence policy apply --cgroup free --shadow /tmp/cand.yaml 2>/dev/null || fail "a shadow on a cgroup without policy"
sysfence policy list | grep -Eq " no policy, shadow$" || fail "list: $(sysfence policy list)"
expect_run "unfiltered under a lone shadow" "ok" first in_cg free sf-syscall 110
sysfence policy shadow-report --cgroup free | grep -Eq "^ +1  x86_64 +getppid " || fail "the lone shadow did not record one getppid"
sysfence policy get --cgroup free 2>&1 | grep -q "has no policy" || fail "get shows an enforcing policy that is not there"
sysfence policy promote --cgroup free 2>/dev/null || fail "promote of a lone shadow"
expect_run "lone shadow promoted" "err 13" in_cg free sf-syscall 110
sysfence policy list | grep -Eq " in force, shadow: no policy$" || fail "list after promote: $(sysfence policy list)"
sysfence policy promote --cgroup free 2>/dev/null || fail "promote back to no policy"
expect_run "back to no policy" "ok" first in_cg free sf-syscall 110
sysfence policy discard-shadow --cgroup free 2>/dev/null || fail "discard of the lone shadow"
sysfence policy list --json | grep -q "\"cgroup_id\":$(stat -c %i /sys/fs/cgroup/free)," && fail "the entry outlived its last policy"

# Object rules in a shadow: the open succeeds, the record names it.
echo secret >/tmp/sh.secret
cat >/tmp/cand-obj.yaml <<'P'
default: allow
objects:
  files:
    - {path: /tmp/sh.secret, access: [read], action: errno, errno: 13}
P
sysfence policy apply --cgroup free --shadow /tmp/cand-obj.yaml 2>/dev/null || fail "a shadow with object rules"
expect_run "open under an object shadow" "secret" in_cg free cat /tmp/sh.secret
sysfence policy shadow-report --cgroup free | grep -Eq "file via open(at)? +errno\(13\) +allow .*cat" ||
  fail "the object difference is not recorded: $(sysfence policy shadow-report --cgroup free)"
sysfence policy discard-shadow --cgroup free 2>/dev/null
mark "lone and object shadows done"

# Atomicity: threads hammer while A (errno 13) and its shadow B (errno 14)
# are promoted back and forth: every call is answered by A or by B.
sysfence policy delete --cgroup sh 2>/dev/null
id=$(stat -c %i /sys/fs/cgroup/sh)
sf-flip --promote "$id" 0 >/dev/null 2>&1 || fail "cannot set A and its shadow B"
rm -f /tmp/hammer.stop
spawn_in_cg sh sf-hammer 2 600 /tmp/hammer.stop >/tmp/sh.hammer &
hammer=$!
sleep 1
out=$(sf-flip --promote "$id" "${SF_SHADOW_SECS:-4}" "${SF_SHADOW_PROMOTES:-2000}" 2>/tmp/sh.lat) || fail "promoting failed: $out $(cat /tmp/sh.lat)"
touch /tmp/hammer.stop
wait "$hammer" || fail "sf-hammer failed"
read -r _ calls _ e13 _ e14 _ other </tmp/sh.hammer
echo "${out#replaces } promotes ($(cat /tmp/sh.lat)) while 2 threads made $calls calls: $e13 x errno 13, $e14 x errno 14, $other other"
[ "${out#replaces }" -ge "${SF_SHADOW_PROMOTES:-2000}" ] || fail "too few promotes: $out"
[ "$other" = 0 ] || fail "$other calls got an answer neither policy gives"
[ "$e13" -gt 0 ] && [ "$e14" -gt 0 ] || fail "the promotes were not observed by the running threads"
sysfence policy delete --cgroup sh 2>/dev/null
rmdir /sys/fs/cgroup/sh /sys/fs/cgroup/free
