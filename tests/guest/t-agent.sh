# SPDX-License-Identifier: GPL-2.0
# budget: 300
# kernel: bench
# covers: manager/src/agent/ manager/src/cli/hook.rs manager/src/node/ manager/src/host/target.rs
# The node agent's cgroup side, for real (issue 8). No Kubernetes API
# server can run here, so the pods come from a file in `kubectl get pods -o
# json` form and `sysfence agent plan --apply` runs the agent's reconcile
# on it (its API side is tested on the host against recorded API traffic).
# The containers are real: containerd runs them, from an image imported
# from a tarball, in the cgroups the kubelet would give them: one pod under
# the systemd driver's layout, one under cgroupfs'. The agent must find
# each container's cgroup from the pod UID and container ID, apply the
# policy its labels select, replace it when the policy changes, remove it
# when the pod goes, and leave a policy applied by hand alone.
# Then a pod the agent knows before its container exists: its container
# runs with the OCI hook and the CRI annotations containerd's CRI plugin
# writes; the hook finds its policy in the agent's selection, so its first
# call is filtered, and the agent takes the cgroup over as its own.
. "$(dirname "$0")/lib.sh"
host_env_up
. "$(dirname "$0")/containers.sh"
containerd_up
mark "containerd up, image imported"

UA=6b1f0d2e-7a41-4c55-9d7e-0a1b2c3d4e5f
UB=0c9e8d7f-1a2b-4c3d-8e9f-a0b1c2d3e4f5
IA=a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1
IB=b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2
CGA=/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod$(echo $UA | tr - _).slice/cri-containerd-$IA.scope
CGB=/kubepods/besteffort/pod$UB/$IB

# The containers: the image's rootfs (read-only, shared), an idle loop.
M=/run/sysfence-test/agent-rootfs
mkdir -p $HR$M
chroot $HR $CTR images mount --snapshotter native sysfence.test/busybox:1 $M >/tmp/agent.mount 2>&1 ||
  fail "ctr images mount failed: $(cat /tmp/agent.mount)"
run_container() {
  _id=$1 _cg=$2 _b=/run/sysfence-test/agent-$1
  make_bundle $_b sh -c 'while :; do sleep 1; done'
  chroot $HR python3 - $_b/config.json $M "$_cg" <<'PY' || fail "editing the spec failed"
import json, sys
path, root, cg = sys.argv[1:4]
c = json.load(open(path))
c["root"] = {"path": root, "readonly": True}
c["linux"]["cgroupsPath"] = cg
json.dump(c, open(path, "w"), indent=1)
PY
  chroot $HR $CTR run -d --config $_b/config.json $_id >/tmp/agent.run 2>&1 || fail "ctr run $_id failed: $(cat /tmp/agent.run)"
  [ -d /sys/fs/cgroup$_cg ] || fail "container $_id is not in $_cg"
}
run_container $IA $CGA
mark "container A created"
run_container $IB $CGB
in_ctr() { chroot $HR $CTR task exec --exec-id "p$$-$2" "$1" sf-syscall 110 2>&1; }
# probe CGROUP: a new process in a container's cgroup makes one getppid
# (what the filter keys on; much quicker than `ctr task exec`, which the
# first checks of each container use).
probe() { sh -c "echo \$\$ >/sys/fs/cgroup$1/cgroup.procs && exec sf-syscall 110"; }
case $(in_ctr $IA 0) in ok*) ;; *) fail "container A is filtered before any policy" ;; esac

mark "containers A and B running"
# The pods, as the API server lists them.
pod() { # NAME UID LABEL CONTAINER-ID QOS
  printf '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"%s","namespace":"shop","uid":"%s","labels":{"app":"%s"}},' "$1" "$2" "$3"
  printf '"spec":{"nodeName":"guest","containers":[{"name":"main","image":"sysfence.test/busybox:1"}]},'
  printf '"status":{"phase":"Running","qosClass":"%s","containerStatuses":[{"name":"main","containerID":"containerd://%s","image":"sysfence.test/busybox:1","imageID":"","ready":true,"restartCount":0,"state":{"running":{"startedAt":"2026-11-23T10:00:00Z"}}}]}}' "$5" "$4"
}
P=/tmp/agent-policies
mkdir -p $P
printf '{"apiVersion":"v1","kind":"List","items":[%s,%s]}\n' \
  "$(pod web-0 $UA web $IA Burstable)" "$(pod db-0 $UB db $IB BestEffort)" >/tmp/pods.json
printf '{"apiVersion":"v1","kind":"List","items":[%s]}\n' "$(pod db-0 $UB db $IB BestEffort)" >/tmp/pods-b.json
policy() { # NAME APP ERRNO
  cat <<R
apiVersion: sysfence.dev/v1alpha1
kind: SyscallPolicy
metadata: {name: $1, namespace: shop}
spec:
  selector: {matchLabels: {app: $2}}
  default: allow
  rules:
    - {syscalls: [getppid], action: errno, errno: $3}
R
}
policy web web 13 >$P/web.yaml
policy db db 14 >$P/db.yaml
# The agent's directory (state, selection, the hook's claims), on the host
# root's /run, where the hook, run by containerd there, finds it.
AD=/run/sysfence-test/agent
STATE=$HR$AD/state.json
plan() { # PODS-FILE [ARGS...]
  _pods=$1
  shift
  sysfence agent plan --policies $P --pods "$_pods" --node-name guest --state-file $STATE --json "$@"
}

# A policy applied by hand elsewhere: the agent must never touch it.
cg_new manual >/dev/null
apply manual <<'Q'
default: allow
rules:
  - {syscalls: [getppid], action: errno, errno: 22}
Q
manual=$(sysfence policy get --cgroup manual --json)

out=$(plan /tmp/pods.json --apply) || fail "agent plan --apply failed: $out"
expect_eq "container A (systemd layout)" "$(in_ctr $IA 1)" "err 13"
expect_eq "container B (cgroupfs layout)" "$(in_ctr $IB 2)" "err 14"
# Nothing to do the second time.
out=$(plan /tmp/pods.json --apply) || fail "second plan failed: $out"
echo "$out" | grep -q '"actions":\[\]' || fail "a converged node still had actions: $out"

mark "plan applied"
# The policy changes: the agent replaces it in the running container.
# Timed: one reconcile pass (`sysfence agent plan --apply`, start to exit)
# after each change, the web policy's errno flipping 15, 16, 15, 16.
cat >/tmp/agent-flip.sh <<F
if grep -q 'errno: 15' $P/web.yaml; then e=16; else e=15; fi
sed -i "s/errno: [0-9]*/errno: \$e/" $P/web.yaml
exec sysfence agent plan --policies $P --pods /tmp/pods.json --node-name guest --state-file $STATE --apply >/dev/null
F
t=$(sf-bench --run 3 -- sh /tmp/agent-flip.sh) || fail "plan after a policy change failed"
echo "agent: policy change to enforcement, one reconcile pass (sysfence agent plan --apply): $t"
expect_eq "container A after the changes" "$(probe $CGA)" "err 16"
expect_eq "container B unchanged" "$(probe $CGB)" "err 14"

mark "plan changes and flips done"
# --- a pod the agent knows before its container runs: the OCI hook ---------
# web-1 is bound to this node and its container not created yet. A pass
# publishes the selection; then containerd creates the container with the
# hook and the annotations of containerd's CRI plugin, and the container's
# first getppid already gets the web policy's errno (16 since the flips).
UC=3d2c1b0a-9f8e-4d7c-a6b5-c4d3e2f1a0b9
IC=c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3
CGC=/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod$(echo $UC | tr - _).slice/cri-containerd-$IC.scope
pending() { # NAME UID LABEL
  printf '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"%s","namespace":"shop","uid":"%s","labels":{"app":"%s"}},' "$1" "$2" "$3"
  printf '"spec":{"nodeName":"guest","containers":[{"name":"main","image":"sysfence.test/busybox:1"}]},'
  printf '"status":{"phase":"Pending","qosClass":"Burstable"}}'
}
printf '{"apiVersion":"v1","kind":"List","items":[%s,%s,%s]}\n' \
  "$(pod web-0 $UA web $IA Burstable)" "$(pod db-0 $UB db $IB BestEffort)" "$(pending web-1 $UC web)" >/tmp/pods-c0.json
printf '{"apiVersion":"v1","kind":"List","items":[%s,%s,%s]}\n' \
  "$(pod web-0 $UA web $IA Burstable)" "$(pod db-0 $UB db $IB BestEffort)" "$(pod web-1 $UC web $IC Burstable)" >/tmp/pods-c1.json
out=$(plan /tmp/pods-c0.json --apply) || fail "plan with the pending pod failed: $out"
echo "$out" | grep -q '"action"' && fail "a pod with no container yet led to actions: $out"
grep -q "\"$UC\"" $HR$AD/selection.json || fail "the selection lacks the pending pod: $(cat $HR$AD/selection.json)"

# The hook, fed by hand, for a pod the agent has not listed: it waits
# (1 s here) and fails closed; nothing is applied.
cg_new agent-unknown >/dev/null
sleep 60 &
unknown=$!
echo $unknown >/sys/fs/cgroup/agent-unknown/cgroup.procs
before=$(sysfence policy list --json)
out=$(printf '{"ociVersion":"1.0.2","id":"unknown","status":"creating","pid":%s,"annotations":{"io.kubernetes.cri.container-type":"container","io.kubernetes.cri.sandbox-uid":"99999999-0000-4000-8000-000000000000","io.kubernetes.cri.container-name":"main"}}' $unknown |
  sysfence oci-hook --agent-dir $HR$AD --agent-wait 1 --state-dir /tmp/agent-hook 2>&1) &&
  fail "the hook accepted a pod the agent has not listed: $out"
echo "$out" | grep -q "is not in the sysfence agent's selection" || fail "unclear hook error for an unknown pod: $out"
expect_eq "policies after the refused hook" "$(sysfence policy list --json)" "$before"
# The same in kube-system, exempt by default (the control plane's static
# pods, the agent's own pod): no wait, no policy, no error.
out=$(printf '{"ociVersion":"1.0.2","id":"unknown","status":"creating","pid":%s,"annotations":{"io.kubernetes.cri.container-type":"container","io.kubernetes.cri.sandbox-uid":"99999999-0000-4000-8000-000000000000","io.kubernetes.cri.sandbox-namespace":"kube-system","io.kubernetes.cri.container-name":"main"}}' $unknown |
  sysfence oci-hook --agent-dir $HR$AD --agent-wait 30 --state-dir /tmp/agent-hook 2>&1) ||
  fail "the hook refused an unlisted pod of an exempt namespace: $out"
expect_eq "policies after the exempt pod" "$(sysfence policy list --json)" "$before"
kill $unknown
wait $unknown 2>/dev/null

# run_hooked ID CGROUP POD-UID OUT: containerd runs container ID (named main)
# of pod POD-UID in CGROUP with the OCI hook and the annotations of
# containerd's CRI plugin, attached in the background (output in OUT, the
# ctr process in $hooked), until it printed its first getppid's answer.
run_hooked() {
  _id=$1 _cg=$2 _uid=$3 _out=$4 _b=/run/sysfence-test/agent-$1
  make_bundle $_b sh -c 'sf-syscall 110; while :; do sleep 1; done'
  chroot $HR python3 - $_b/config.json $M "$_cg" "$SYSFENCE" $AD $_uid <<'PY' || fail "editing the spec failed"
import json, sys
path, root, cg, sysfence, ad, uid = sys.argv[1:7]
c = json.load(open(path))
c["root"] = {"path": root, "readonly": True}
c["linux"]["cgroupsPath"] = cg
hook = {"path": sysfence, "args": ["sysfence", "oci-hook", "--agent-dir", ad, "--state-dir", "/run/sysfence-test/agent-oci"]}
c["hooks"] = {"createRuntime": [hook], "poststop": [hook]}
c["annotations"] = {
    "io.kubernetes.cri.container-type": "container",
    "io.kubernetes.cri.sandbox-id": "5a" * 32,
    "io.kubernetes.cri.sandbox-name": "web",
    "io.kubernetes.cri.sandbox-namespace": "shop",
    "io.kubernetes.cri.sandbox-uid": uid,
    "io.kubernetes.cri.container-name": "main",
}
json.dump(c, open(path, "w"), indent=1)
PY
  chroot $HR $CTR run --config $_b/config.json $_id >$_out 2>&1 &
  hooked=$!
  _i=0
  until grep -q -E '^(ok|err) ' $_out; do
    kill -0 $hooked 2>/dev/null || fail "ctr run of hooked container $_id ended: $(cat $_out)"
    _i=$((_i + 1))
    [ $_i -lt 60 ] || fail "hooked container $_id printed nothing in 60 s: $(cat $_out)"
    sleep 1
  done
}
# stop_ctr ID PID: kill container ID (attached `ctr run` PID) and delete it.
stop_ctr() {
  chroot $HR $CTR task kill -s KILL $1 >/dev/null 2>&1
  wait $2 2>/dev/null
  chroot $HR $CTR task delete $1 >/dev/null 2>&1
  chroot $HR $CTR containers delete $1 >/dev/null 2>&1 || fail "ctr containers delete $1 failed"
}
run_hooked $IC $CGC $UC /tmp/agent-c.out
expect_eq "the hooked container's first getppid" "$(grep -m 1 -E '^(ok|err) ' /tmp/agent-c.out)" "err 16"
cgc=$(stat -c %i /sys/fs/cgroup$CGC) || fail "container C is not in $CGC"
[ -f $HR$AD/claims/$cgc.json ] || fail "the hook left no claim: $(ls $HR$AD/claims 2>&1)"

# The kubelet reports it running: the agent owns it without sending
# anything (its policy is already the one wanted), and counts it applied.
out=$(plan /tmp/pods-c1.json --apply) || fail "plan with container C running failed: $out"
echo "$out" | grep -q '"actions":\[\]' || fail "the agent re-applied what the hook had set: $out"
echo "$out" | grep -q '"appliedContainers":2[,}]' || fail "the web policy does not count container C as applied: $out"
[ -z "$(ls $HR$AD/claims)" ] || fail "claims left after the agent took them: $(ls $HR$AD/claims)"
grep -q "\"$cgc\"" $STATE || fail "the agent's state lacks container C's cgroup: $(cat $STATE)"
# A change reaches it like any container the agent applied.
sed -i "s/errno: 16/errno: 17/" $P/web.yaml
out=$(plan /tmp/pods-c1.json --apply) || fail "plan after the change failed: $out"
expect_eq "container C after a change" "$(probe $CGC)" "err 17"
expect_eq "container A after a change" "$(probe $CGA)" "err 17"
# It stops: poststop removes its policy, and the agent forgets it.
stop_ctr $IC $hooked
sysfence policy list --json | tr -c '0-9' '\n' | grep -qx "$cgc" && fail "container C's policy outlived it"
echo "agent + hook: the pending pod's container filtered from its first call, owned by the agent after"

mark "hook with plan done"
# --- the agent itself: `sysfence agent run` against a stand-in API server --
# fake-apiserver.py serves the objects of JSON files as lists and watch
# events, and takes the status patches. The agent takes over the state
# `plan --apply` left (as after a restart) and must change nothing; then a
# policy change is timed from the write of the resource to enforcement in
# container A (the watch, the 200 ms debounce, one pass); then a pod bound
# to the node gets a container with the hook: filtered from its first call.
API=/run/sysfence-test/api
mkdir -p $HR$API/policies $HR$API/pods
put() { # DIR NAME JSON: write an object file atomically
  printf '%s\n' "$3" >$HR$API/$1/.$2.tmp && mv $HR$API/$1/.$2.tmp $HR$API/$1/$2.json
}
jpolicy() { # NAME APP ERRNO
  printf '{"apiVersion":"sysfence.dev/v1alpha1","kind":"SyscallPolicy","metadata":{"name":"%s","namespace":"shop"},"spec":{"selector":{"matchLabels":{"app":"%s"}},"default":"allow","rules":[{"syscalls":["getppid"],"action":"errno","errno":%s}]}}' "$1" "$2" "$3"
}
put policies web "$(jpolicy web web 17)"
put policies db "$(jpolicy db db 14)"
put pods web-0 "$(pod web-0 $UA web $IA Burstable)"
put pods db-0 "$(pod db-0 $UB db $IB BestEffort)"
chroot $HR python3 "${SF_ROOT#/host}/tests/guest/fake-apiserver.py" $API 18080 >/tmp/api.log 2>&1 &
api=$!
cat >/tmp/agent-kubeconfig <<K
apiVersion: v1
kind: Config
clusters: [{name: fake, cluster: {server: "http://127.0.0.1:18080"}}]
users: [{name: fake, user: {}}]
contexts: [{name: fake, context: {cluster: fake, user: fake, namespace: default}}]
current-context: fake
K
# kube-rs loads the system's trust roots when a kubeconfig names no CA
# (in a pod, the service account's CA is used instead); the guest has none.
[ -f $HR/etc/ssl/certs/ca-certificates.crt ] || fail "no $HR/etc/ssl/certs/ca-certificates.crt (scripts/setup.sh installs ca-certificates)"
SSL_CERT_FILE=$HR/etc/ssl/certs/ca-certificates.crt KUBECONFIG=/tmp/agent-kubeconfig sysfence agent run --node-name guest --cgroup-root /sys/fs/cgroup \
  --state-file $STATE --metrics-addr 127.0.0.1:9479 --resync 10 >/tmp/agent-run.log 2>&1 &
agent=$!
# wait_for WHAT SECONDS CMD...
wait_for() {
  # Every half second: each check is a few processes, which on a loaded
  # emulated guest take CPU from the agent that is being waited for.
  _what=$1 _n=$(($2 * 2))
  shift 2
  until "$@"; do
    kill -0 $agent 2>/dev/null || fail "the agent died waiting for $_what: $(cat /tmp/agent-run.log)"
    _n=$((_n - 1))
    [ $_n -gt 0 ] || fail "timed out waiting for $_what; agent: $(tail -n 20 /tmp/agent-run.log); api: $(tail -n 5 /tmp/api.log)"
    sleep 0.5
  done
  mark "$_what"
}
applied() { # POLICY N: the last status patch of POLICY reports N applied
  grep "\"shop/$1\"" $HR$API/patches.jsonl 2>/dev/null | tail -n 1 | grep -q "\"appliedContainers\": $2[,}]"
}
wait_for "web's status" 120 applied web 1
wait_for "db's status" 60 applied db 1
grep -qE '^sysfence agent: (apply|delete) ' /tmp/agent-run.log &&
  fail "the agent changed policies the plan had put in place: $(cat /tmp/agent-run.log)"
expect_eq "container A under the agent" "$(probe $CGA)" "err 17"
# probe_a: a new process in container A's cgroup makes one getppid.
cat >/tmp/probe-a.sh <<F
echo \$\$ >/sys/fs/cgroup$CGA/cgroup.procs && exec sf-syscall 110
F
cat >/tmp/live-flip.sh <<F
if grep -q '"errno":18' $HR$API/policies/web.json; then e=19; else e=18; fi
printf '%s\n' '$(jpolicy web web XX)' | sed "s/XX/\$e/" >$HR$API/policies/.web.tmp
mv $HR$API/policies/.web.tmp $HR$API/policies/web.json
n=0
until [ "\$(sh /tmp/probe-a.sh)" = "err \$e" ]; do
  n=\$((n + 1))
  [ \$n -lt 1000 ] || { echo "errno \$e not in force after 1000 probes" >&2; exit 1; }
done
F
t=$(sf-bench --run 5 -- sh /tmp/live-flip.sh) || fail "timing the live agent failed"
echo "agent run: policy change to enforcement (resource written to a new process refused; watch, 200 ms debounce, one pass): $t"
e=$(sed 's/.*"errno":\([0-9]*\).*/\1/' $HR$API/policies/web.json)
expect_eq "container A after the live changes" "$(sh /tmp/probe-a.sh)" "err $e"
expect_eq "container B unchanged by them" "$(probe $CGB)" "err 14"

mark "live agent flips done"
# A pod is bound to the node; its container is created with the hook.
UD=5e4d3c2b-1a0f-4e9d-b8c7-d6e5f4a3b2c1
ID=d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4
CGD=/kubepods/burstable/pod$UD/$ID
put pods web-2 "$(pending web-2 $UD web)"
wait_for "the selection to list the new pod" 30 grep -q "\"$UD\"" $HR$AD/selection.json
run_hooked $ID $CGD $UD /tmp/agent-d.out
hooked_d=$hooked
mark "the new pod's container started with the hook"
expect_eq "the new pod's container's first getppid" "$(grep -m 1 -E '^(ok|err) ' /tmp/agent-d.out)" "err $e"
cgd=$(stat -c %i /sys/fs/cgroup$CGD) || fail "container D is not in $CGD"
put pods web-2 "$(pod web-2 $UD web $ID Burstable)"
wait_for "web's status to count the new container" 60 applied web 2
[ -z "$(ls $HR$AD/claims)" ] || fail "claims left after the agent's pass: $(ls $HR$AD/claims)"
grep -q "the OCI hook applied shop/web; the agent owns it now" /tmp/agent-run.log ||
  fail "the agent did not take the hook's claim: $(cat /tmp/agent-run.log)"
grep -q "^sysfence agent: apply shop/web to shop/web-2" /tmp/agent-run.log &&
  fail "the agent re-applied what the hook had set: $(cat /tmp/agent-run.log)"
metrics=$(chroot $HR python3 -c "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:9479/metrics').read().decode())") ||
  fail "no /metrics"
echo "$metrics" | grep -q 'sysfence_decisions_total{.*pod="web-2".*action="denied"} [1-9]' ||
  fail "no denied decisions of the new pod in /metrics: $(echo "$metrics" | grep decisions)"
# The pod goes: the agent removes the policy of its (still running) container.
mark "metrics read"
rm $HR$API/pods/web-2.json
wait_for "the agent to remove the gone pod's policy" 60 sh -c "! sysfence policy list --json | tr -c '0-9' '\n' | grep -qx $cgd"

mark "live agent pod removal done"
# Shadow mode: db becomes the shadow of container B's cgroup (the agent's
# enforcing db policy there is removed): B's getppid gets through, and the
# calls the shadow would refuse are counted in db's status; then mode
# enforce promotes the shadow in one step and the call is refused.
shadowed() { # POLICY: its last status patch has a shadow part
  grep "\"shop/$1\"" $HR$API/patches.jsonl 2>/dev/null | tail -n 1 | grep -q '"shadow": {'
}
counted() { # POLICY: its last status patch counts 3 or more getppid calls the shadow would refuse
  grep "\"shop/$1\"" $HR$API/patches.jsonl 2>/dev/null | tail -n 1 | grep -qE '"bySyscall": \{"getppid": ([3-9]|[1-9][0-9]+)[,}]'
}
put policies db "$(jpolicy db db 15 | sed 's/"spec":{/"spec":{"mode":"shadow",/')"
wait_for "db's shadow status" 60 shadowed db
for i in 1 2 3; do
  case $(probe $CGB) in ok*) ;; *) fail "container B is refused under db's shadow: $(probe $CGB)" ;; esac
done
# Counts alone are patched at most once a resync (10 s here), on the next pass.
wait_for "db's status to count B's getppid calls" 150 counted db
put policies db "$(jpolicy db db 15)"
refused_b() { [ "$(probe $CGB)" = "err 15" ]; }
wait_for "container B refused after the promote" 60 refused_b
grep -q "^sysfence agent: promote shop/db's shadow" /tmp/agent-run.log ||
  fail "the agent did not promote db's shadow: $(tail -n 20 /tmp/agent-run.log)"
grep -q "^sysfence agent: apply shop/db to" /tmp/agent-run.log &&
  fail "the agent set db instead of promoting its shadow: $(tail -n 20 /tmp/agent-run.log)"
echo "agent run: shadow mode counted B's calls in the status; enforce promoted the shadow and refused them"
kill $agent
wait $agent 2>/dev/null
kill $api
wait $api 2>/dev/null
stop_ctr $ID $hooked_d
echo "agent run: converged without changes, live change enforced, a new pod filtered from its first call through the hook, shadow mode then promoted"

mark "live agent done"
# The pod goes: its container's policy is removed; the other stays.
out=$(plan /tmp/pods-b.json --apply) || fail "plan without pod A failed: $out"
case $(probe $CGA) in ok*) ;; *) fail "container A is still filtered after its pod went" ;; esac
expect_eq "container B still filtered" "$(probe $CGB)" "err 14"
expect_eq "the hand-applied policy" "$(sysfence policy get --cgroup manual --json)" "$manual"

mark "pod A gone"
# Clean up.
for id in $IA $IB; do
  chroot $HR $CTR task kill -s KILL $id >/dev/null 2>&1
done
sleep 2
for id in $IA $IB; do
  chroot $HR $CTR task delete $id >/dev/null 2>&1
  chroot $HR $CTR containers delete $id >/dev/null 2>&1
done
mark "containers deleted"
printf '{"apiVersion":"v1","kind":"List","items":[]}\n' >/tmp/pods-none.json
last=$(plan /tmp/pods-none.json --apply) || fail "the last plan failed: $last"
sysfence policy delete --cgroup manual 2>/dev/null || fail "deleting the hand-applied policy failed"
left=$(sysfence policy list --json)
[ "$left" = "[]" ] || fail "policies left: $left; the last plan: $last"
mark "no policies left"
chroot $HR $CTR images unmount $M >/dev/null 2>&1 || umount $HR$M 2>/dev/null
containerd_down
mark "containerd stopped"
host_env_down
exit 0
