#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""apps-report.py LOG OUTDIR README COMMIT

Turns the APP, APPSTAT and APPNOTE lines of bench/guest/apps.sh runs into
OUTDIR/apps.json (every run, the medians, the goals of issue 20), OUTDIR/apps.md
(the table) and the README's summary between `<!-- apps:begin -->` and
`<!-- apps:end -->`. An application the log does not have keeps its entry
from the previous apps.json (each application is a boot of its own).
"""
import datetime
import json
import os
import statistics
import sys

log, outdir, readme, commit = sys.argv[1:5]
CASES = {
    "bare": "no filter (module not loaded)",
    "seccomp": "seccomp, Docker's default profile",
    "sysfence": "sysfence, Docker's default profile",
    "recorded": "sysfence, profile recorded from the warm-up",
    "path": "sysfence, Docker's profile + a path rule",
    "bare-end": "no filter again (module loaded, after the rest)",
}
WORKLOADS = {
    "http-get": "nginx: HTTP GET of a 4 KiB page (wrk, 4 connections)",
    "set": "redis: SET (redis-benchmark, 4 clients)",
    "get": "redis: GET (redis-benchmark, 4 clients)",
    "tpcb": "PostgreSQL: TPC-B-like transactions (pgbench, 2 clients)",
}

SHORT = {"http-get": "nginx GET", "set": "redis SET", "get": "redis GET", "tpcb": "pgbench TPC-B"}

runs, stats, notes = {}, {}, {}
for line in open(log, errors="replace"):
    f = line.strip().split("|")
    if f[0] == "APP" and len(f) == 12:
        _, app, wl, case, r, req, err, sec, per_s, p50, p99, cpu = f
        runs.setdefault(app, []).append({
            "workload": wl, "case": case, "run": int(r), "requests": int(req),
            "errors": int(err), "seconds": float(sec), "per_s": float(per_s),
            "p50_us": float(p50), "p99_us": float(p99), "cpu_us": int(cpu),
            "cpu_us_per_request": int(cpu) / int(req) if int(req) else None})
    elif f[0] == "APPSTAT" and len(f) == 5:
        n = [int(x) if x.lstrip("-").isdigit() and int(x) >= 0 else None for x in f[3:5]]
        stats.setdefault(f[1], {})[f[2]] = {"denied": n[0], "allowed": n[1]}
    elif f[0] == "APPNOTE" and len(f) >= 3:
        notes.setdefault(f[1], []).append("|".join(f[2:]))


def summary(rs):
    out = {}
    for k in ("per_s", "p50_us", "p99_us", "cpu_us_per_request"):
        v = [r[k] for r in rs if r[k] is not None]
        out[k] = {"median": statistics.median(v), "min": min(v), "max": max(v)}
    out["runs"] = len(rs)
    out["requests"] = sum(r["requests"] for r in rs)
    out["errors"] = sum(r["errors"] for r in rs)
    return out


path = os.path.join(outdir, "apps.json")
try:
    doc = json.load(open(path))
except (OSError, ValueError):
    doc = {}
doc["note"] = ("bench kernel under QEMU icount, one vCPU: 1 guest ns = 1 instruction. "
               "Throughput and latency are in guest time; server and load generator share "
               "the vCPU. CPU per request is the server cgroup's cpu.stat usage_usec over a run "
               "divided by the requests the tool completed. Medians of the runs, min and max.")
doc.setdefault("apps", {})
today = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
for app, rs in runs.items():
    wls = {}
    for r in rs:
        wls.setdefault(r["workload"], {}).setdefault(r["case"], []).append(r)
    doc["apps"][app] = {
        "date": today, "commit": commit, "notes": notes.get(app, []),
        "calls": stats.get(app, {}),
        "workloads": {wl: {c: summary(v) for c, v in cs.items()} for wl, cs in wls.items()},
        "runs": rs,
    }

# Goals of issue 20, per workload: sysfence's CPU per request with Docker's
# profile at most seccomp's, and within 2% of bare. Where the two cases'
# runs overlap (min-max), the difference is inside the run-to-run spread
# and is said to be.
goals = []


def spread(cs, a, b):
    x, y = cs[a]["cpu_us_per_request"], cs[b]["cpu_us_per_request"]
    if x["min"] <= y["max"] and y["min"] <= x["max"]:
        return (f"; runs overlap: {a} {x['min']:.2f}-{x['max']:.2f}, "
                f"{b} {y['min']:.2f}-{y['max']:.2f} (inside the spread)")
    return ""


for app, a in doc["apps"].items():
    for wl, cs in a["workloads"].items():
        m = {c: s["cpu_us_per_request"]["median"] for c, s in cs.items()}
        if "sysfence" in m and "seccomp" in m:
            goals.append({"workload": wl, "goal": "sysfence CPU/request at most seccomp's",
                          "met": m["sysfence"] <= m["seccomp"],
                          "overlap": bool(spread(cs, "sysfence", "seccomp")),
                          "detail": f"{m['sysfence']:.2f} vs {m['seccomp']:.2f} us"
                          + spread(cs, "sysfence", "seccomp")})
        if "sysfence" in m and "bare" in m:
            x = m["sysfence"] / m["bare"] - 1
            goals.append({"workload": wl, "goal": "sysfence (Docker's profile) within 2% of bare",
                          "met": x <= 0.02, "overlap": bool(spread(cs, "sysfence", "bare")),
                          "detail": f"{x:+.1%}" + spread(cs, "sysfence", "bare")})
doc["goals"] = goals
json.dump(doc, open(path, "w"), indent=1)


def rng(s, fmt="{:,.0f}"):
    return f"{fmt.format(s['median'])} ({fmt.format(s['min'])}-{fmt.format(s['max'])})"


md = ["# Real applications, side by side",
      "",
      "Made by `bench/apps.sh` (`bench/guest/apps.sh`): Debian's servers through the host "
      "root, each case in a fresh cgroup of its own on loopback, the load generator in "
      "another, unfiltered cgroup. Bench kernel under QEMU icount with one vCPU, so guest "
      "time counts instructions (1 us = 1,000 instructions) and the server shares the vCPU "
      "with its load generator: requests per second and latencies are in guest time, "
      "not what a real machine gives, and are for comparing the cases. CPU per request is "
      "the server cgroup's `cpu.stat` `usage_usec` over a run divided by the requests the "
      "tool completed. Each figure is the median of the runs, with min and max; "
      "\"vs bare\" compares the CPU per request with the first case. \"calls/request\" and "
      "\"refused\" are what sysfence counted in the server's cgroup over the runs (`sysfence "
      "stats`: calls allowed, per request the client completed; calls refused); for redis "
      "both workloads together.",
      ""]
for app, a in doc["apps"].items():
    md.append(f"## {app} ({a['date']}, commit {a['commit']})")
    md.append("")
    for n in a["notes"]:
        md.append(f"- {n}")
    if a["notes"]:
        md.append("")
    for wl, cs in a["workloads"].items():
        md.append(f"**{WORKLOADS.get(wl, wl)}**")
        md.append("")
        md.append("| case | requests/s | p50 us | p99 us | CPU us/request | vs bare | errors | calls/request | refused |")
        md.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        bare = cs.get("bare", {}).get("cpu_us_per_request", {}).get("median")
        for c in CASES:
            if c not in cs:
                continue
            s = cs[c]
            cpu = s["cpu_us_per_request"]["median"]
            vs = f"{cpu / bare - 1:+.1%}" if bare and c != "bare" else ""
            ref = (a["calls"].get(c) or {}).get("denied")
            allowed = (a["calls"].get(c) or {}).get("allowed")
            nreq = sum(r["requests"] for r in a["runs"] if r["case"] == c)
            per = f"{allowed / nreq:.2f}" if allowed is not None and nreq else ""
            md.append(f"| {CASES[c]} | {rng(s['per_s'])} | {rng(s['p50_us'])} | {rng(s['p99_us'])} | "
                      f"{rng(s['cpu_us_per_request'], '{:,.2f}')} | {vs} | {s['errors']} | {per} | "
                      f"{'' if ref is None else ref} |")
        md.append("")
md += ["## Goals (issue 20)", "", "| workload | goal | met | figures |", "|---|---|---|---|"]
md += [f"| {g['workload']} | {g['goal']} | {'yes' if g['met'] else '**no**'} | {g['detail']} |" for g in goals]
open(os.path.join(outdir, "apps.md"), "w").write("\n".join(md) + "\n")

# The README's summary: CPU per request of each workload, each case against bare.
lines = ["| workload | bare, CPU us/request | seccomp | sysfence | recorded | path rule |",
         "|---|---:|---:|---:|---:|---:|"]
for app, a in doc["apps"].items():
    for wl, cs in a["workloads"].items():
        if "bare" not in cs:
            continue
        b = cs["bare"]["cpu_us_per_request"]["median"]
        cells = []
        for c in ("seccomp", "sysfence", "recorded", "path"):
            cells.append(f"{cs[c]['cpu_us_per_request']['median'] / b - 1:+.1%}" if c in cs else "")
        lines.append(f"| {SHORT.get(wl, wl)} | {b:,.2f} | " + " | ".join(cells) + " |")
near = [g for g in goals if "2%" in g["goal"]]
below = [g for g in goals if "seccomp" in g["goal"]]
inside = sum(g["overlap"] for g in below)
lines += ["", f"Goals of issue 20, sysfence with Docker's profile: within 2% of bare in "
          f"{sum(g['met'] for g in near)} of {len(near)} workloads; CPU per request at most "
          f"seccomp's in {sum(g['met'] for g in below)} of {len(below)}"
          + (f" ({inside} of these comparisons inside the runs' spread: not resolved)" if inside else "")
          + ". [bench/results/apps.md](bench/results/apps.md) has throughput, latency, system "
          "calls per request and every case."]
text = open(readme).read()
begin, end = "<!-- apps:begin -->", "<!-- apps:end -->"
if begin in text and end in text:
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    open(readme, "w").write(head + begin + "\n" + "\n".join(lines) + "\n" + end + tail)
print("\n".join(md))
