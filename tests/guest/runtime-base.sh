# SPDX-License-Identifier: GPL-2.0
# Measures what runc and crun call between installing a container's seccomp
# filter and the execve of its program (runtime-base.py says why that
# matters), from strace logs of real container starts on the host's
# runtimes: SF_RB_RUNS starts each (5), with and without noNewPrivileges
# (which moves runc's filter install before or after its exec-fifo wait),
# half of them as `create` then `start` (as engines run runtimes: the
# created container waits under its filter for the start), half as `run`.
# Prints the runtimes' versions and one JSON object per runtime name.
#
#   qemu/run --kernel bench -- sh tests/guest/runtime-base.sh
# (also sourced by t-docker.sh's check that the committed list still
# covers what the runtimes do: SF_RB_ONLY=1 defines the functions only).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/containers.sh"

# rb_trace RUNTIME NNP N: strace one container start (N even: create and
# start; odd: run); prints the trace's path (host view).
rb_trace() {
  _b=/run/rb/$1-$2-$3
  make_bundle "$_b" /bin/echo started
  chroot $HR python3 - "$_b/config.json" "$2" <<'PY' || fail "editing config.json failed"
import json, sys
path, nnp = sys.argv[1], sys.argv[2] == "nnp"
c = json.load(open(path))
c["process"]["noNewPrivileges"] = nnp
c["linux"]["seccomp"] = {
    "defaultAction": "SCMP_ACT_ALLOW",
    "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
    "syscalls": [{"names": ["kexec_load"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}],
}
json.dump(c, open(path, "w"), indent=1)
PY
  _id=rb-$1-$2-$3
  _st="chroot $HR strace -f -qq -s 0 --pidns-translation -o $_b.trace"
  if [ $(($3 % 2)) = 0 ]; then
    # As engines run them (containerd's shim, conmon): create, then start.
    $_st "$1" create -b "$_b" "$_id" >/tmp/rb.out 2>&1 &
    _sp=$!
    _i=0
    until chroot $HR "$1" state "$_id" 2>/dev/null | grep -q '"created"'; do
      _i=$((_i + 1))
      [ $_i -lt 100 ] || fail "$1 create under strace did not get to created: $(cat /tmp/rb.out)"
      sleep 0.1
    done
    chroot $HR "$1" start "$_id" || fail "$1 start failed"
    wait $_sp || fail "$1 create under strace failed: $(cat /tmp/rb.out)"
  else
    $_st "$1" run -b "$_b" "$_id" >/tmp/rb.out 2>&1 || fail "$1 run under strace failed: $(cat /tmp/rb.out)"
  fi
  chroot $HR "$1" delete -f "$_id" >/dev/null 2>&1
  echo "$_b.trace"
}

# rb_measure RUNS: prints {"runc": [...], "crun": [...]}.
rb_measure() {
  _args=
  for _rt in runc crun; do
    for _nnp in nnp nonnp; do
      _k=0
      while [ "$_k" -lt "$1" ]; do
        _t=$(rb_trace $_rt $_nnp $_k) || exit 1
        _args="$_args $_rt=$_t"
        _k=$((_k + 1))
      done
    done
  done
  # shellcheck disable=SC2086
  chroot $HR python3 "${SF_ROOT#/host}/tests/guest/runtime-base.py" $_args
}

[ -n "${SF_RB_ONLY:-}" ] && return 0
host_env_up
mkdir -p $HR/run/rb
echo "runc: $(chroot $HR runc --version | head -n 1)"
echo "crun: $(chroot $HR crun --version | head -n 1)"
rb_measure "${SF_RB_RUNS:-5}"
host_env_down
