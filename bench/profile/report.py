#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""bench/profile.sh's report: instructions per call, function by function.

For each case, the two boots' block counts (CASE.N.counts, "ADDRESS
INSTRUCTIONS" per translated block) are mapped to the guest kernel's
symbols of the same boot (CASE.N.kallsyms) and the smaller run is
subtracted from the larger; divided by the difference in calls, that is
what one call costs in each function. User space (sf-bench's loop) is one
line. Usage: report.py DIR [--write FILE] CASE...
"""
import bisect
import shutil
import subprocess
import re
import sys
from collections import defaultdict
from pathlib import Path

KERNEL = 0xFFFF800000000000
SHOWN = 0.5  # functions under half an instruction per call are summed
ROWS = 30  # and those after the 30 costliest


def demangle_all(names):
    """Rust symbols demangled by LLVM's llvm-cxxfilt (installed with the
    kernel's toolchain), one process for all; C names are left as they are."""
    rust = sorted({n for n in names if n.startswith("_R")})
    tool = shutil.which("llvm-cxxfilt-19") or shutil.which("llvm-cxxfilt")
    if not rust or not tool:
        return {}
    out = subprocess.run([tool], input="\n".join(rust), capture_output=True, text=True, check=True)
    # Generic functions: drop the type parameters, which make names long.
    short = [re.sub(r"::<.*>$", "", d) for d in out.stdout.splitlines()]
    return dict(zip(rust, short))


def symbols(path):
    addrs, raw = [], []
    for line in path.read_text().splitlines():
        f = line.split()
        if len(f) < 3 or f[1] not in "tTwW":
            continue
        a = int(f[0], 16)
        if a == 0:
            continue
        addrs.append(a)
        raw.append((f[2], f[3] if len(f) > 3 else ""))
    nice = demangle_all([n for n, _ in raw])
    names = [(nice.get(n, n) + (" " + m if m else "")) for n, m in raw]
    order = sorted(range(len(addrs)), key=addrs.__getitem__)
    return [addrs[i] for i in order], [names[i] for i in order]


def per_function(counts, kallsyms):
    addrs, names = symbols(kallsyms)
    total = defaultdict(int)
    for line in counts.read_text().splitlines():
        a, n = line.split()
        a, n = int(a, 16), int(n)
        if a < KERNEL:
            total["(user space)"] += n
            continue
        i = bisect.bisect_right(addrs, a) - 1
        total[names[i] if i >= 0 else "(unknown)"] += n
    return total


def case(d, name):
    runs = sorted(d.glob(f"{name}.*.counts"), key=lambda p: int(p.name.split(".")[-2]))
    if len(runs) < 2:
        sys.exit(f"report.py: {name} needs two runs in {d}, found {len(runs)}")
    lo, hi = runs[0], runs[-1]
    calls = int(hi.name.split(".")[-2]) - int(lo.name.split(".")[-2])
    a = per_function(lo, lo.with_suffix(".kallsyms"))
    b = per_function(hi, hi.with_suffix(".kallsyms"))
    diff = {k: (b.get(k, 0) - a.get(k, 0)) / calls for k in set(a) | set(b)}
    return calls, diff


# What each case adds to the one before it: the policy's cost over the
# unfiltered caller, the path rule's over the policy without one, a new
# version's over a remembered one.
AGAINST = {
    "getppid.sf": "getppid.bare",
    "personality.sf": "personality.bare",
    "open.sf": "open.bare",
    "open.rule": "open.sf",
    "replace.distinct": "replace.same",
}


def table(name, calls, diff):
    rows, rest = [], 0.0
    for i, (k, v) in enumerate(sorted(diff.items(), key=lambda kv: -kv[1])):
        if abs(v) >= SHOWN and i < ROWS:
            rows.append((k, v))
        else:
            rest += v
    listed = sum(v for _, v in rows)
    out = [f"### {name}: {listed:,.1f} instructions per call in the functions listed, "
           f"{rest:+,.1f} in the rest ({calls:,} calls)", "",
           "| function | instructions per call |", "|---|---|"]
    out += [f"| `{k}` | {v:,.1f} |" for k, v in rows]
    out.append(f"| the rest: functions under {SHOWN} per call or past the {ROWS}th, and "
               f"what two boots do differently besides the calls | {rest:,.1f} |")
    return "\n".join(out) + "\n"


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    d, write, names = Path(argv[1]), None, []
    args = iter(argv[2:])
    for a in args:
        if a == "--write":
            write = Path(next(args))
        else:
            names.append(a)
    done = {n: case(d, n) for n in names}
    parts = [table(n, *done[n]) for n in names]
    for n, base in AGAINST.items():
        if n in done and base in done:
            a, b = done[n][1], done[base][1]
            delta = {k: a.get(k, 0) - b.get(k, 0) for k in set(a) | set(b)}
            parts.append(table(f"{n} minus {base}", done[n][0], delta))
    text = "\n".join(parts)
    sys.stdout.write(text)
    if write:
        head = ("# Instructions per call, function by function\n\n"
                "Written by `bench/profile.sh` (bench kernel, icount, a QEMU plugin counting "
                "every executed block; two boots per case, their difference divided by the "
                "difference in calls). A function the calls run has a whole number per call; "
                "the rest also holds what two boots do differently besides the calls (a few "
                "instructions per call, either sign). `.bare`: a caller under no policy, module loaded; "
                "`.sf`: under Docker's default policy; `open.rule`: under a policy with a "
                "file path rule.\n\n")
        write.write_text(head + text)


if __name__ == "__main__":
    main(sys.argv)
