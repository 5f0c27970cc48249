#!/usr/bin/python3
"""Turns the JSON records of one harness run into bench/results.md.

usage: report.py RUN_DIR [RESULTS_MD]   (re-render a finished run, e.g. after editing this file)
"""
from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

PHASE_LABELS = {"up": "up", "noop": "no-op up", "plan": "plan", "down": "down"}
TARGET_SIZE = 200


def command_output(*argv: str) -> str:
    try:
        return subprocess.run(argv, capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        return "missing"


def machine() -> dict:
    meminfo = dict(line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines())
    cpu_models = [line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")]
    return {
        "kernel": platform.release(),
        "nproc": len(os.sched_getaffinity(0)),
        "memory_gib": round(int(meminfo["MemTotal"].split()[0]) / 1024 / 1024, 1),
        "cpu": cpu_models[0] if cpu_models else platform.machine(),
        "os": "Debian " + Path("/etc/debian_version").read_text().strip()
        if Path("/etc/debian_version").exists() else platform.platform(),
        "iproute2": command_output("ip", "-V").split(",")[1].strip(),
        "nft": command_output("nft", "--version"),
        "python": f"/usr/bin/python3 {command_output('/usr/bin/python3', '-c', 'import platform; print(platform.python_version())')}",
        "pyroute2": command_output("dpkg-query", "-W", "-f", "${Version}", "python3-pyroute2") or "missing",
        "loadavg_at_start": Path("/proc/loadavg").read_text().split()[:3],
    }


def one_line(record: dict) -> str:
    """Progress line for the terminal."""
    times = " ".join(f"{name}={p['wall_s']:.3f}s" for name, p in record["phases"].items() if p)
    state = "ok" if record["valid"] else "INVALID: " + "; ".join(record["problems"][:3])
    run = "warm-up" if record.get("warmup") else f"run {record['run']}"
    return f"  n={record['hosts']} {run:<7} {record['variant']:<12} {times}  {state}"


def spread(values: list[float], digits: int) -> str:
    if not values:
        return "-"
    return f"{statistics.median(values):.{digits}f} ({min(values):.{digits}f}–{max(values):.{digits}f})"


def median(values: list[float], digits: int) -> str:
    return f"{statistics.median(values):.{digits}f}" if values else "-"


def phase_values(records: list[dict], phase: str, key: str) -> list[float]:
    return [r["phases"][phase][key] for r in records if r["valid"] and r["phases"].get(phase)]


def median_wall(records: list[dict], phase: str) -> float | None:
    walls = phase_values(records, phase, "wall_s")
    return statistics.median(walls) if walls else None


def size_table(size: int, by_variant: dict[str, list[dict]]) -> list[str]:
    shell = by_variant.get("shell", [])
    lines = [
        f"### N = {size} hosts",
        "",
        "| variant | phase | wall s: median (min–max) | user s | sys s | peak RSS MB: median (max) | shell ÷ this | valid runs |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for variant, records in by_variant.items():
        valid = sum(r["valid"] for r in records)
        for phase, label in PHASE_LABELS.items():
            if all(r["phases"].get(phase) is None for r in records):
                lines.append(f"| {variant} | {label} | n/a | | | | | |")
                continue
            walls = phase_values(records, phase, "wall_s")
            rss_mb = [kb / 1024 for kb in phase_values(records, phase, "max_rss_kb")]
            rss = f"{statistics.median(rss_mb):.1f} ({max(rss_mb):.1f})" if rss_mb else "-"
            base, own = median_wall(shell, phase), median_wall(records, phase)
            ratio = f"{base / own:.{1 if base >= own else 2}f}×" if base and own else "-"
            lines.append(
                f"| {variant} | {label} | {spread(walls, 3)} | {median(phase_values(records, phase, 'user_s'), 3)} "
                f"| {median(phase_values(records, phase, 'sys_s'), 3)} | {rss} | {ratio} | {valid}/{len(records)} |"
            )
    return lines + [""]


def targets(by_variant: dict[str, list[dict]]) -> list[str]:
    """The issue's targets, as ratios from this run at N = 200."""
    vnet, shell, batch = (by_variant.get(v, []) for v in ("vnet", "shell", "ip-batch"))
    if not vnet or median_wall(vnet, "up") is None:
        return [f"vnet was not measured in this run at N = {TARGET_SIZE}; targets not evaluated.", ""]
    up = median_wall(vnet, "up")
    rss = max((kb / 1024 for p in PHASE_LABELS for kb in phase_values(vnet, p, "max_rss_kb")), default=None)
    rows = []

    def row(target: str, value: float | None, met) -> None:
        rows.append(f"| {target} | {'-' if value is None else f'{value:.2f}'} | "
                    f"{'-' if value is None else ('met' if met(value) else 'MISSED')} |")

    b_up, s_up, s_down = median_wall(batch, "up"), median_wall(shell, "up"), median_wall(shell, "down")
    row("ip-batch up ÷ vnet up ≥ 1", b_up / up if b_up else None, lambda v: v >= 1)
    row("shell up ÷ vnet up ≥ 10", s_up / up if s_up else None, lambda v: v >= 10)
    noop, plan, down = (median_wall(vnet, p) for p in ("noop", "plan", "down"))
    row("no-op up ÷ up < 0.05", noop / up if noop else None, lambda v: v < 0.05)
    row("plan ÷ up < 0.05", plan / up if plan else None, lambda v: v < 0.05)
    row("shell down ÷ vnet down ≥ 2", s_down / down if s_down and down else None, lambda v: v >= 2)
    row("vnet peak RSS MB < 60", rss, lambda v: v < 60)
    return ["| target | value | |", "|---|---|---|", *rows, ""]


def load_range(records: list[dict]) -> str:
    loads = [r["loadavg"] for r in records]
    return f"{min(loads):.2f}–{max(loads):.2f}" if loads else "-"


def write(run_dir: Path, results: Path) -> None:
    meta = json.loads((run_dir / "meta.json").read_text())
    all_records = [json.loads(p.read_text()) for p in sorted(run_dir.glob("*-n*-r*.json"))]
    records = [r for r in all_records if not r.get("warmup")]
    m = meta["machine"]
    out = [
        "# VNetCompose benchmark results",
        "",
        f"Run `{meta['run_id']}` started {meta['started']} ({meta.get('elapsed_s', '?')} s in all); "
        f"{meta['runs']} runs per variant and size, interleaved, after {meta.get('warmup', 0)} uncounted "
        "warm-up run each.",
        "",
        f"Machine: kernel {m['kernel']}, {m['nproc']} CPUs ({m['cpu']}), {m['memory_gib']} GiB RAM, {m['os']}; "
        f"load average at start {' '.join(m['loadavg_at_start'])}, "
        f"before each measured run {load_range(records)} (other work shares this machine: "
        "the reason for the min–max spread).",
        f"Tools: {m['iproute2']}, {m['nft']}, {m['python']}, python3-pyroute2 {m['pyroute2']}.",
        "",
        "Wall time is measured around each command; user/sys seconds come from wait4() on it and cover "
        "its whole process tree; peak RSS is GNU time's %M for it, the largest resident set of any single "
        "process in the tree (not a sum). Medians and ranges are over valid runs only: a run is valid when "
        "every command succeeded, the lab passed the `ip -j`/`nft -j` check and ping host 1 → host N after "
        "bring-up, and no namespace was left after teardown. A teardown that deletes namespaces returns "
        "before the kernel has freed their links (that cleanup is asynchronous); the harness pauses after "
        "each teardown so it does not spill into the next measurement. "
        "Reproduce with `bench/run.sh` (see bench/README.md).",
        "",
    ]
    for name, description in meta["variants"].items():
        out.append(f"- **{name}**: {description}")
    for name, reason in meta.get("skipped", {}).items():
        out.append(f"- **{name}**: skipped: {reason}")
    out.append("")
    sizes = sorted({r["hosts"] for r in records})
    for size in sizes:
        by_variant: dict[str, list[dict]] = {}
        for variant in meta["variants"]:
            by_variant[variant] = [r for r in records if r["hosts"] == size and r["variant"] == variant]
        out += size_table(size, {v: rs for v, rs in by_variant.items() if rs})
        if size == TARGET_SIZE:
            out += [f"### Targets of issue 6 (N = {TARGET_SIZE})", ""] + targets(by_variant)
    invalid = [r for r in records if not r["valid"]]
    if invalid:
        out += ["### Invalid runs", ""]
        out += [f"- {r['variant']} N={r['hosts']} run {r['run']}: {'; '.join(r['problems'][:5])}" for r in invalid]
        out.append("")
    results.write_text("\n".join(out))


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__.splitlines()[2])
    target = Path(sys.argv[2]) if len(sys.argv) == 3 else Path(__file__).resolve().parent.parent / "results.md"
    write(Path(sys.argv[1]), target)
