#!/usr/bin/env python3
"""Turn bench/compare's results.csv into summary.md (stdlib only).

    summarize.py RESULTS_DIR

Reads RESULTS_DIR/results.csv and RESULTS_DIR/header.md (machine and versions, written by
bench/compare) and writes RESULTS_DIR/summary.md: the header, a table of medians per
(scenario, mode, clients, target), the ratios Spillway / PgBouncer, and both against the bare
relay (the floor).
"""
import csv
import statistics
import sys
from pathlib import Path

TARGETS = ("spillway", "spillway-1t", "spillway-baseline", "pgbouncer", "relay", "postgresql")
SCENARIO_ORDER = {"select": 0, "storm": 1, "idle": 2}
MODE_ORDER = {"simple": 0, "extended": 1, "prepared": 2, "-": 3}


def num(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def median(rows, key):
    values = [v for v in (num(r[key]) for r in rows) if v is not None]
    return statistics.median(values) if values else None


def fmt(value, digits=1):
    if value is None:
        return "–"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def ratio(a, b):
    if a is None or b is None or b == 0:
        return "–"
    return f"{a / b:.2f}"


def main():
    out_dir = Path(sys.argv[1])
    with open(out_dir / "results.csv", newline="") as f:
        rows = list(csv.DictReader(f))

    groups = {}
    for r in rows:
        groups.setdefault((r["scenario"], r["mode"], int(r["clients"]), r["target"]), []).append(r)

    def sort_key(k):
        scenario, mode, clients, target = k
        return (SCENARIO_ORDER.get(scenario, 9), MODE_ORDER.get(mode, 9), clients,
                TARGETS.index(target) if target in TARGETS else 9)

    med = {}
    lines = []
    lines.append("## Medians\n")
    lines.append("TPS for `storm` (pgbench `-C`: one connection per transaction) is connections/s. "
                 "CPU, peak RSS and memory are the pooler's (none for direct PostgreSQL). "
                 "`errors`: failed or aborted pgbench transactions/clients, or failed idle logins, "
                 "summed over the runs.\n")
    lines.append("| scenario | mode | clients | target | runs | TPS | lat avg ms | lat p99 ms "
                 "| CPU s | CPU µs/tx | peak RSS MiB | KiB/idle client | errors |")
    lines.append("|---|---|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    for key in sorted(groups, key=sort_key):
        g = groups[key]
        m = {c: median(g, c) for c in ("tps", "lat_avg_ms", "lat_p99_ms", "cpu_s", "cpu_us_per_tx",
                                       "peak_rss_kib", "kib_per_idle_client")}
        m["errors"] = sum(int(num(r.get("errors")) or 0) for r in g)
        med[key] = m
        scenario, mode, clients, target = key
        rss = m["peak_rss_kib"] / 1024 if m["peak_rss_kib"] is not None else None
        lines.append(f"| {scenario} | {mode} | {clients} | {target} | {len(g)} | {fmt(m['tps'])} "
                     f"| {fmt(m['lat_avg_ms'], 2)} | {fmt(m['lat_p99_ms'], 2)} | {fmt(m['cpu_s'], 2)} "
                     f"| {fmt(m['cpu_us_per_tx'])} | {fmt(rss)} | {fmt(m['kib_per_idle_client'], 2)} "
                     f"| {m['errors']} |")

    lines.append("\n## Spillway / PgBouncer\n")
    lines.append("Ratios of the medians. Above 1 is better for Spillway in TPS and connections/s, "
                 "worse in CPU µs/tx, p99 and KiB per idle client. "
                 "For `storm` CPU µs/tx is per connection+transaction; for `idle`, per idle client "
                 "opened (its login included).\n")
    spillways = [t for t in ("spillway", "spillway-1t", "spillway-baseline") if any(k[3] == t for k in groups)]
    lines.append("| scenario | mode | clients | Spillway | TPS | CPU µs/tx | p99 | connections/s | KiB/idle client |")
    lines.append("|---|---|--:|---|--:|--:|--:|--:|--:|")
    seen = set()
    for key in sorted(groups, key=sort_key):
        scenario, mode, clients, _ = key
        if (scenario, mode, clients) in seen:
            continue
        seen.add((scenario, mode, clients))
        b = med.get((scenario, mode, clients, "pgbouncer"))
        for target in spillways:
            s = med.get((scenario, mode, clients, target))
            if not s or not b:
                continue
            storm = scenario == "storm"
            idle = scenario == "idle"
            lines.append(
                f"| {scenario} | {mode} | {clients} | {target} "
                f"| {'–' if storm or idle else ratio(s['tps'], b['tps'])} "
                f"| {ratio(s['cpu_us_per_tx'], b['cpu_us_per_tx'])} "
                f"| {'–' if idle else ratio(s['lat_p99_ms'], b['lat_p99_ms'])} "
                f"| {ratio(s['tps'], b['tps']) if storm else '–'} "
                f"| {ratio(s['kib_per_idle_client'], b['kib_per_idle_client']) if idle else '–'} |")

    lines.append("\n## Against the floor\n")
    lines.append("CPU µs per transaction over the bare relay's (bench/relay: the same bytes forwarded "
                 "unread) at the relay's client count: 1.00 is the cost of forwarding alone.\n")
    lines.append("| mode | clients | " + " | ".join(f"{t} / relay" for t in spillways + ["pgbouncer"]) + " |")
    lines.append("|---|--:|" + "--:|" * (len(spillways) + 1))
    for (scenario, mode, clients, target), m in sorted(med.items(), key=lambda kv: sort_key(kv[0])):
        if scenario != "select" or target != "relay":
            continue
        cells = []
        for t in spillways + ["pgbouncer"]:
            other = med.get((scenario, mode, clients, t))
            cells.append(ratio(other and other["cpu_us_per_tx"], m["cpu_us_per_tx"]))
        lines.append(f"| {mode} | {clients} | " + " | ".join(cells) + " |")

    header = (out_dir / "header.md").read_text() if (out_dir / "header.md").exists() else ""
    (out_dir / "summary.md").write_text(header + "\n" + "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
