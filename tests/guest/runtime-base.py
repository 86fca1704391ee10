# SPDX-License-Identifier: GPL-2.0
"""The system calls a container runtime makes after it installs the
container's seccomp filter and before the container's program runs.

A profile recorded from a running container lacks them, and the runtime
dies under it (runc's Go runtime crashes in futexwakeup). This reads
`strace -f` logs (-f --pidns-translation) of runtimes starting a container whose spec has a seccomp
profile, and prints, per runtime, the calls entered under the filter by the
thread that installed it or any thread of its process, up to and including
the execve of the container's program.

    runtime-base.py NAME=TRACE [NAME=TRACE...]

prints one JSON object: {"NAME": ["syscall", ...], ...} (sorted, unique
over all the traces given for a name). Exits 1 when a trace shows no
filter being installed, or no execve after it.
"""
import json
import re
import sys

LINE = re.compile(r"^(\d+)\s+(.*)$")
CALL = re.compile(r"^([a-z0-9_]+)\(")
CLONE = re.compile(r"^clone3?\(")
# With --pidns-translation a pid from another namespace reads
# "= 3 /* 112 in strace's PID NS */": the second is the one lines carry.
RESULT = re.compile(r"\)\s+=\s+(-?\d+)(?: /\* (\d+) in strace's PID NS \*/)?")
INSTALL = re.compile(r"^(seccomp\(SECCOMP_SET_MODE_FILTER|prctl\(PR_SET_SECCOMP, SECCOMP_MODE_FILTER)")


def installed(lines, i):
    """Whether line i installs a filter (a real program, not libseccomp's
    probing with NULL) and succeeds."""
    text = lines[i][1]
    return bool(INSTALL.match(text)) and "{len=" in text and succeeded(lines, i)


def result(lines, i):
    """What the call on line i returned (on that line, or where it
    resumes), or None."""
    tid, text = lines[i]
    if "<unfinished" in text:
        call = text.split("(", 1)[0]
        text = next((r for t, r in lines[i + 1:] if t == tid and r.startswith(f"<... {call} resumed>")), "")
    m = RESULT.search(text)
    if not m:
        return None
    return int(m.group(2) or m.group(1))


def succeeded(lines, i):
    return result(lines, i) == 0


def calls_under_filter(path):
    lines = []
    with open(path, errors="replace") as f:
        for raw in f:
            m = LINE.match(raw.rstrip("\n"))
            if m:
                lines.append((int(m.group(1)), m.group(2)))
    # Thread groups: a thread created with CLONE_THREAD joins its creator's.
    group = {}
    for i, (tid, text) in enumerate(lines):
        if CLONE.match(text) and "CLONE_THREAD" in text:
            child = result(lines, i)
            if child is not None and child > 0:
                group[child] = group.get(tid, tid)
    tgid = lambda t: group.get(t, t)
    start = next((i for i in range(len(lines)) if installed(lines, i)), None)
    if start is None:
        raise SystemExit(f"{path}: no seccomp filter installed")
    init = tgid(lines[start][0])
    names = set()
    for i in range(start + 1, len(lines)):
        tid, text = lines[i]
        if tgid(tid) != init:
            continue
        m = CALL.match(text)
        if not m:
            continue  # "<... resumed>" (entered before), signals, exits
        names.add(m.group(1))
        if m.group(1) == "execve" and succeeded(lines, i):
            return names
    raise SystemExit(f"{path}: no execve after the filter was installed")


def main(argv):
    out = {}
    for arg in argv:
        name, _, path = arg.partition("=")
        out.setdefault(name, set()).update(calls_under_filter(path))
    print(json.dumps({k: sorted(v) for k, v in sorted(out.items())}))


if __name__ == "__main__":
    main(sys.argv[1:])
