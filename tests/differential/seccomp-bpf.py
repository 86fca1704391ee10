#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""seccomp-bpf.py PROFILE.json CAPS KERNEL OUT.bpf [x86_64|aarch64]

Builds the seccomp filter a libseccomp-based container runtime builds from
an OCI/Docker profile, and writes it as raw BPF. Independent of sysfence's
own importer on purpose: moby's condition handling (includes/excludes on
caps, arches, minKernel), then runc's use of libseccomp (python3-seccomp):
native arch plus the listed/mapped ones, unknown names skipped, a rule
comparing one argument twice split into one rule per comparison. CAPS is a
comma-separated list (may be empty), KERNEL the release to compare
minKernel with. The last argument is the architecture the filter is for
(default: x86_64, the host's): aarch64 builds an arm64 filter on an x86
host, as runc on arm64 would (its native arch aarch64, archMap's entry for
SCMP_ARCH_AARCH64, Docker's `arches` compared with "arm64").
"""
import json
import sys

import seccomp

prof_path, caps_arg, kernel, out = sys.argv[1:5]
target = sys.argv[5] if len(sys.argv) > 5 else "x86_64"
NATIVE, GOARCH, MAPKEY = {
    "x86_64": (seccomp.Arch.X86_64, "amd64", "SCMP_ARCH_X86_64"),
    "aarch64": (seccomp.Arch.AARCH64, "arm64", "SCMP_ARCH_AARCH64"),
}[target]
caps = set(c for c in caps_arg.split(",") if c)
p = json.load(open(prof_path))

ACT = {
    "SCMP_ACT_ALLOW": lambda e: seccomp.ALLOW,
    "SCMP_ACT_LOG": lambda e: seccomp.LOG,
    "SCMP_ACT_ERRNO": lambda e: seccomp.ERRNO(1 if e is None else e),
    "SCMP_ACT_TRAP": lambda e: seccomp.TRAP,
    "SCMP_ACT_KILL": lambda e: seccomp.KILL,
    "SCMP_ACT_KILL_THREAD": lambda e: seccomp.KILL,
    "SCMP_ACT_KILL_PROCESS": lambda e: seccomp.KILL_PROCESS,
}
OP = {
    "SCMP_CMP_NE": seccomp.NE, "SCMP_CMP_LT": seccomp.LT, "SCMP_CMP_LE": seccomp.LE,
    "SCMP_CMP_EQ": seccomp.EQ, "SCMP_CMP_GE": seccomp.GE, "SCMP_CMP_GT": seccomp.GT,
    "SCMP_CMP_MASKED_EQ": seccomp.MASKED_EQ,
}
ARCH = {
    "SCMP_ARCH_X86": seccomp.Arch.X86, "SCMP_ARCH_X32": seccomp.Arch.X32,
    "SCMP_ARCH_ARM": seccomp.Arch.ARM,
}


def kver(s):
    head = ""
    for ch in s:
        if ch.isdigit() or ch == ".":
            head += ch
        else:
            break
    return [int(x or 0) for x in head.split(".")]


def at_least(running, minimum):
    a, b = kver(running), kver(minimum)
    n = max(len(a), len(b))
    return a + [0] * (n - len(a)) >= b + [0] * (n - len(b))


def excluded(s):
    inc, exc = s.get("includes") or {}, s.get("excludes") or {}
    if any(c not in caps for c in inc.get("caps") or []):
        return True
    if inc.get("arches") and GOARCH not in inc["arches"]:
        return True
    if inc.get("minKernel") and not at_least(kernel, inc["minKernel"]):
        return True
    if any(c in caps for c in exc.get("caps") or []):
        return True
    if GOARCH in (exc.get("arches") or []):
        return True
    if exc.get("minKernel") and at_least(kernel, exc["minKernel"]):
        return True
    return False


f = seccomp.SyscallFilter(ACT[p["defaultAction"]](p.get("defaultErrnoRet")))
if (int(NATIVE) & 0xFFFFFFFF) != (seccomp.system_arch() & 0xFFFFFFFF):
    f.add_arch(NATIVE)
    f.remove_arch(seccomp.Arch.NATIVE)
arches = p.get("architectures") or []
if not arches:
    for m in p.get("archMap") or []:
        if m["architecture"] == MAPKEY:
            arches = [m["architecture"]] + (m.get("subArchitectures") or [])
for a in arches:
    if a in ARCH:
        f.add_arch(ARCH[a])
for s in p.get("syscalls") or []:
    if excluded(s):
        continue
    act = ACT[s["action"]](s.get("errnoRet"))
    args = [seccomp.Arg(a["index"], OP[a["op"]], a["value"], a.get("valueTwo", 0)) for a in s.get("args") or []]
    idx = [a["index"] for a in s.get("args") or []]
    groups = [[a] for a in args] if len(set(idx)) != len(idx) else [args]
    for name in s.get("names") or [s.get("name")]:
        try:
            seccomp.resolve_syscall(NATIVE, name)
        except (RuntimeError, ValueError):
            known = False
            for a in arches:
                if a in ARCH:
                    try:
                        seccomp.resolve_syscall(ARCH[a], name)
                        known = True
                    except (RuntimeError, ValueError):
                        pass
            if not known:
                continue  # unknown on every arch: runc skips it too
        for g in groups:
            # Any other failure is fatal, as in runc ("error adding seccomp
            # rule for syscall ...").
            f.add_rule(act, name, *g)
with open(out, "wb") as o:
    f.export_bpf(o)
