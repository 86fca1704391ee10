#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""report.py LOG OUTDIR BENCH_README [README]

Turns the RESULT lines of a bench/guest/suite.sh run into OUTDIR/results.json,
OUTDIR/results.md and OUTDIR/chart.png, replaces the full table in
BENCH_README (bench/README.md) between the `<!-- bench:begin -->` and
`<!-- bench:end -->` markers, and the short summary in README (the top
README) between `<!-- bench-summary:begin -->` and `<!-- bench-summary:end -->`.
"""
import json
import sys

log, outdir, readme = sys.argv[1:4]
summary_readme = sys.argv[4] if len(sys.argv) > 4 else None
rows = []
for line in open(log, errors="replace"):
    line = line.strip()
    if not line.startswith("RESULT|"):
        continue
    _, key, case, a, b, c, unit = line.split("|")[:7]
    rows.append({"key": key, "case": case, "unit": unit,
                 "values": [float(a), float(b), float(c)]})

by = {r["key"]: r for r in rows}


def med(k):
    return by[k]["values"][0] if k in by else None


def fmt(r):
    a, b, c = r["values"]
    if r["key"] in ("update.latency", "update.distinct.latency", "seccomp.install"):
        return f"p50 {a:,.1f}, p99 {b:,.1f}, max {c:,.1f} {r['unit']}"
    if a == b == c:
        return f"{a:,.1f} {r['unit']}" if a != int(a) else f"{int(a):,} {r['unit']}"
    return f"{a:,.1f} ({b:,.1f}-{c:,.1f}) {r['unit']}"


# Targets of issue 6, read against the figures.
checks = []


def check(what, ok, detail):
    checks.append({"target": what, "met": bool(ok), "detail": detail})


if med("base.getppid") and med("mod.unfiltered"):
    x = med("mod.unfiltered") / med("base.getppid") - 1
    check("unfiltered getppid at most +10% over no module", x <= 0.10, f"{x:+.1%}")
for case in ("getppid", "socket", "personality", "mount", "ia32"):
    s, c = med(f"sf.{case}"), med(f"seccomp.{case}")
    if s and c:
        check(f"sysfence {case} below seccomp", s < c, f"{s:,.0f} vs {c:,.0f}")
for case in ("personality", "socket"):
    b, s, c = med(f"base.{case}"), med(f"sf.{case}"), med(f"seccomp.{case}")
    if b and s and c:
        # What a call with an argument rule costs over the same call with no
        # filter (the reading), and, beside it, over the same
        # filter's plain allowed call (what the rule itself costs).
        sa, ca = s - b, c - b
        sm, cm = s - med("sf.getppid"), c - med("seccomp.getppid")
        check(f"{case}: argument rule adds at most a tenth of seccomp's", sa <= ca / 10,
              f"over the bare call sysfence +{sa:,.0f}, seccomp +{ca:,.0f}; "
              f"over a plain allowed call +{sm:,.0f} vs +{cm:,.0f}")
if "update.latency" in by:
    p99 = by["update.latency"]["values"][1]
    check("live replace p99 under 100 us of guest time", p99 < 100, f"p99 {p99:,.1f} us")
sizes = sorted({int(k.split(".")[2]) for k in by if k.startswith("scale.getppid.") and k.endswith(".distinct")})
if len(sizes) > 1:
    lo, hi = med(f"scale.getppid.{sizes[0]}.distinct"), med(f"scale.getppid.{sizes[-1]}.distinct")
    x = hi / lo - 1
    check(f"per-call cost at {sizes[-1]:,} policies within 5% of 1", x <= 0.05, f"{x:+.1%}")
    m = med(f"scale.mem.{sizes[-1]}.distinct")
    if m is not None:
        check("under 4 KiB per distinct Docker-default policy", m < 4096, f"{m:,.0f} bytes")
    k = f"scale.mem.{sizes[-1]}.identical"
    if k in by:
        # Shared, a cgroup pays its counters and table entry but not the
        # compiled tables, which are most of a distinct policy's memory.
        check("identical policies shared", med(k) < m / 2, f"{med(k):,.0f} vs {m:,.0f} bytes")
# Targets of issue 20.
one, two = med("sf.getppid"), med("sf.nested")
if one and two:
    check("issue 20: getppid with policies at two levels at most 1.05 x one policy",
          two <= 1.05 * one, f"{two:,.1f} vs {one:,.1f}")
if one:
    check("issue 20: getppid under one policy at most 300", one <= 300, f"{one:,.1f}")
if med("sf.personality"):
    check("issue 20: personality(0) with an argument rule at most 330",
          med("sf.personality") <= 330, f"{med('sf.personality'):,.1f}")
if med("base.open") and med("sf.open_rule"):
    check("issue 20: open+close with an active path rule at most +10% over bare",
          med("sf.open_rule") <= 1.10 * med("base.open"),
          f"{med('sf.open_rule'):,.0f} vs {med('base.open'):,.0f}")
if "update.latency" in by:
    p50, p99 = by["update.latency"]["values"][0], by["update.latency"]["values"][1]
    check("issue 20: live replace p50 under 30 us and p99 under 100 us", p50 < 30 and p99 < 100,
          f"p50 {p50:,.1f}, p99 {p99:,.1f} us")
if med("update.rate"):
    check("issue 20: at least 50,000 replaces per second", med("update.rate") >= 50000,
          f"{med('update.rate'):,.0f}/s")
# The two figures above alternate two versions, which the module remembers
# compiled; these make it compile every one.
if "update.distinct.latency" in by:
    p50, p99 = by["update.distinct.latency"]["values"][0], by["update.distinct.latency"]["values"][1]
    check("issue 20, each replace a new version: p50 under 30 us and p99 under 100 us",
          p50 < 30 and p99 < 100, f"p50 {p50:,.1f}, p99 {p99:,.1f} us")
if med("update.distinct.rate"):
    check("issue 20, each replace a new version: at least 50,000 replaces per second",
          med("update.distinct.rate") >= 50000, f"{med('update.distinct.rate'):,.0f}/s")
big = [k for k in by if k.startswith("scale.load.") and k.endswith(".distinct")]
if big:
    k = max(big, key=lambda k: int(k.split(".")[2]))
    check(f"issue 20: load of {int(k.split('.')[2]):,} distinct policies in at most 3 s (batches)",
          med(k) <= 3, f"{med(k):,.2f} s, of which encoding {med(k.replace('load', 'encode')) or 0:,.2f} s")
if med("base.macro") and med("sf.macro"):
    x = med("sf.macro") / med("base.macro") - 1
    check("macro workload within 5% of bare", x <= 0.05, f"{x:+.1%}")

json.dump({"unit_note": "icount: 1 guest ns = 1 instruction", "results": rows, "targets": checks},
          open(f"{outdir}/results.json", "w"), indent=2)

md = ["| case | result |", "|---|---|"]
md += [f"| {r['case']} | {fmt(r)} |" for r in rows]
md += ["", "| target (issue 6 unless named) | met | figures |", "|---|---|---|"]
md += [f"| {c['target']} | {'yes' if c['met'] else '**no**'} | {c['detail']} |" for c in checks]
table = "\n".join(md)
open(f"{outdir}/results.md", "w").write(
    "# Benchmark results\n\nGenerated by `bench/run.sh` (bench kernel, QEMU icount: "
    "1 guest ns = 1 instruction; medians with min-max of the repeats).\n\n" + table + "\n")



def replace_between(path, begin, end, body):
    text = open(path).read()
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        _, tail = rest.split(end, 1)
        open(path, "w").write(head + begin + "\n" + body + "\n" + end + tail)


replace_between(readme, "<!-- bench:begin -->", "<!-- bench:end -->", table)


# The top README's summary: the cases a reader weighing sysfence against
# seccomp asks about first, each beside the bare call and seccomp.
def cell(k):
    v = med(k) if k else None
    return "-" if v is None else f"{v:,.0f}"


summary = ["| per call, in instructions | no filter | seccomp | sysfence |", "|---|---|---|---|"]
for what, b, c, f in [
    ("getppid (allowed)", "base.getppid", "seccomp.getppid", "sf.getppid"),
    ("getppid of a caller outside any filtered cgroup, module loaded", "base.getppid", None, "mod.unfiltered"),
    ("socket(AF_INET) (an argument rule, allowed)", "base.socket", "seccomp.socket", "sf.socket"),
    ("mount (denied)", None, "seccomp.mount", "sf.mount"),
    ("ia32 getpid via int 0x80 (allowed)", "base.ia32", "seccomp.ia32", "sf.ia32"),
    ("open + close of an allowed file", "base.open", "seccomp.open", "sf.open"),
]:
    summary.append(f"| {what} | {cell(b)} | {cell(c)} | {cell(f)} |")
if "update.latency" in by and "seccomp.install" in by:
    u, i = by["update.latency"]["values"], by["seccomp.install"]["values"]
    summary.append(f"| changing a running container's policy | - | impossible (installing one at start: "
                   f"{i[0] / 1e6:,.1f} ms) | p50 {u[0]:,.1f} us, p99 {u[1]:,.1f} us |")
if summary_readme:
    replace_between(summary_readme, "<!-- bench-summary:begin -->", "<!-- bench-summary:end -->",
                    "\n".join(summary))

import matplotlib  # noqa: E402
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

cases = ["getppid", "socket", "personality", "mount", "ia32"]
names = ["getppid", "socket(AF_INET)\narg rule", "personality(0)\narg rule", "mount\n(denied)", "ia32 getpid"]
base = [med("base.getppid"), med("base.getppid"), med("base.getppid"), med("base.getppid"), med("base.ia32")]
sf = [med(f"sf.{c}") for c in cases]
sc = [med(f"seccomp.{c}") for c in cases]
if all(v is not None for v in base + sf + sc):
    fig, ax = plt.subplots(figsize=(9, 4.5))
    x = range(len(cases))
    w = 0.27
    ax.bar([i - w for i in x], base, w, label="no filter (getppid / ia32 getpid)", color="#999999")
    ax.bar(list(x), sc, w, label="seccomp, Docker default", color="#d95f02")
    ax.bar([i + w for i in x], sf, w, label="sysfence, Docker default", color="#1b9e77")
    ax.set_xticks(list(x))
    ax.set_xticklabels(names)
    ax.set_ylabel("instructions per call (icount)")
    ax.set_title("Per-call cost inside a container with Docker's default profile")
    ax.legend()
    fig.tight_layout()
    fig.savefig(f"{outdir}/chart.png", dpi=100)
