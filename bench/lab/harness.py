#!/usr/bin/python3
"""Benchmark harness: builds, checks and tears down the lab with every variant and size.

usage: harness.py [--prefix P] [--sizes 10,50,200] [--runs 5] [--variants a,b] [--settle S]
                  [--out DIR] [--results FILE]

Runs are interleaved (for each size, each run, each variant) so load from other work on the
machine spreads over all variants alike. Each timed command runs as a child process; wall
time is measured around it and user/sys time come from wait4() on it: Linux folds the usage
of every descendant a process waited for into its own, so this covers the whole tree.
Peak RSS is GNU time's %M for the command: the ru_maxrss of its process tree, i.e. the
largest resident set of any single process in the tree (not a sum). It is taken from GNU
time, a small process, because a process forked from this Python harness would start with
the harness's resident set counted in its high-water mark. One JSON record per run goes to
OUT/runs/<id>/, then the markdown table is (re)written.
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

import namespaces
import report
from check import check_lab
from labspec import Lab
from variants import Commands, Variant, all_variants

BENCH = Path(__file__).resolve().parent.parent


class Interrupted(Exception):
    """SIGTERM/SIGHUP/SIGINT: stop measuring and clean up."""


def interrupt(signum, _frame):
    raise Interrupted(signal.Signals(signum).name)


@dataclass(frozen=True)
class Measurement:
    wall_s: float
    user_s: float
    sys_s: float
    max_rss_kb: int
    exit_code: int
    steal_s: float  # CPU time the hypervisor gave to others meanwhile (all CPUs): a noise indicator


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def stolen_s() -> float:
    """Machine-wide steal time so far (/proc/stat, 8th value of the `cpu` line)."""
    with open("/proc/stat") as stat:
        return int(stat.readline().split()[8]) / CLOCK_TICKS


GNU_TIME = "/usr/bin/time"


def timed(argv: list[str], log, rss_file: Path) -> Measurement:
    """Run argv to completion in its own process group; its rusage covers its whole tree."""
    log.write(f"$ {' '.join(argv)}\n")
    log.flush()
    rss_file.unlink(missing_ok=True)
    steal_before = stolen_s()
    started = time.perf_counter()
    child = subprocess.Popen([GNU_TIME, "-q", "-f", "%M", "-o", str(rss_file), *argv],
                             stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
    try:
        _, status, usage = os.wait4(child.pid, 0)
    except BaseException:
        os.killpg(child.pid, signal.SIGKILL)
        os.wait4(child.pid, 0)
        child.returncode = -signal.SIGKILL
        raise
    wall = time.perf_counter() - started
    steal = stolen_s() - steal_before
    child.returncode = os.waitstatus_to_exitcode(status)
    rss_text = rss_file.read_text().split() if rss_file.exists() else []
    max_rss_kb = int(rss_text[-1]) if rss_text and rss_text[-1].isdigit() else -1
    return Measurement(round(wall, 6), round(usage.ru_utime, 6), round(usage.ru_stime, 6), max_rss_kb, child.returncode,
                       round(steal, 2))


def loadavg() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def run_once(variant: Variant, commands: Commands, lab: Lab, run: int, log, scratch: Path) -> dict:
    """up -> check -> [noop -> check] -> [plan] -> down -> nothing left; one record.

    Run 0 is the warm-up (page cache, first use of the binaries): recorded, not counted.
    """
    record: dict = {"variant": variant.name, "hosts": lab.hosts, "run": run, "warmup": run == 0,
                    "prefix": lab.prefix,
                    "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                    "loadavg": loadavg(), "phases": {}, "problems": []}

    def phase(name: str) -> bool:
        argv = getattr(commands, name)
        if argv is None:
            record["phases"][name] = None
            return True
        result = timed(argv, log, scratch / "max_rss_kb")
        record["phases"][name] = asdict(result)
        if result.exit_code != commands.expected_exit.get(name, 0):
            record["problems"].append(f"{name}: exit code {result.exit_code}")
            return False
        return True

    def checked(after: str) -> bool:
        verdict = check_lab(lab)
        record.setdefault("checks", {})[after] = verdict
        record["problems"] += [f"after {after}: {p}" for p in verdict["problems"]]
        return verdict["ok"]

    try:
        if phase("up") and checked("up"):
            if phase("noop") and (commands.noop is None or checked("noop")):
                phase("plan")
    finally:
        phase("down")
        leftovers = namespaces.remove_with_prefix(lab.prefix)
        if leftovers:
            record["problems"].append(f"down left {len(leftovers)} namespaces")
    record["valid"] = not record["problems"]
    return record


def parse_list(text: str) -> list[str]:
    return [item for item in text.replace(",", " ").split() if item]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prefix", default=f"vb{secrets.token_hex(3)}-")
    parser.add_argument("--sizes", default="10,50,200")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--warmup", type=int, choices=(0, 1), default=1,
                        help="one uncounted warm-up run per variant and size first (default 1)")
    parser.add_argument("--variants", default="shell,ip-batch,pyroute2,vnet")
    parser.add_argument("--settle", type=float, default=None,
                        help="seconds to wait after each teardown for the kernel's asynchronous "
                             "namespace cleanup (default 0.5 + 3 ms per host)")
    parser.add_argument("--out", type=Path, default=BENCH / "out")
    parser.add_argument("--results", type=Path, default=BENCH / "results.md")
    args = parser.parse_args()

    sizes = [int(s) for s in parse_list(args.sizes)]
    known = all_variants()
    unknown = [v for v in parse_list(args.variants) if v not in known]
    if unknown or args.runs < 1:
        parser.error(f"unknown variants {unknown}; known: {', '.join(known)}" if unknown else "--runs must be >= 1")
    for size in sizes:
        try:
            Lab(args.prefix, size)  # validates prefix and size before anything is created
        except ValueError as error:
            parser.error(str(error))
    if existing := namespaces.with_prefix(args.prefix):
        print(f"harness: refusing to run: {len(existing)} namespaces with prefix {args.prefix} exist "
              f"(e.g. {existing[0]})", file=sys.stderr)
        return 1

    selected: list[Variant] = []
    skipped: dict[str, str] = {}
    for name in parse_list(args.variants):
        reason = known[name].unavailable_reason()
        if reason:
            print(f"harness: skipping {name}: {reason}", file=sys.stderr)
            skipped[name] = reason
        else:
            selected.append(known[name])

    run_id = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + args.prefix.rstrip("-")
    run_dir = args.out / "runs" / run_id
    run_dir.mkdir(parents=True)
    (run_dir / "meta.json").write_text(json.dumps({
        "run_id": run_id, "prefix": args.prefix, "sizes": sizes, "runs": args.runs, "warmup": args.warmup,
        "variants": {v.name: v.description for v in selected}, "skipped": skipped,
        "machine": report.machine(), "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }, indent=2))
    for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(signum, interrupt)

    print(f"harness: run {run_id}, prefix {args.prefix}, records in {run_dir}", file=sys.stderr)
    prepared: list[tuple[Variant, Lab, Path]] = []
    began = time.perf_counter()
    try:
        with open(run_dir / "commands.log", "a") as log:
            for size in sizes:
                lab = Lab(args.prefix, size)
                settle = args.settle if args.settle is not None else 0.5 + 0.003 * size
                plans = []
                for variant in selected:
                    workdir = run_dir / "labs" / f"n{size}" / variant.name
                    workdir.mkdir(parents=True)
                    prepared.append((variant, lab, workdir))
                    plans.append((variant, variant.prepare(lab, workdir)))
                for run in range(1 - args.warmup, args.runs + 1):
                    for variant, commands in plans:
                        record = run_once(variant, commands, lab, run, log, run_dir)
                        name = f"{variant.name}-n{size}-r{run}.json"
                        (run_dir / name).write_text(json.dumps(record, indent=2))
                        print(report.one_line(record), file=sys.stderr)
                        time.sleep(settle)
    except Interrupted as stop:
        print(f"harness: interrupted ({stop}); cleaning up", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        for variant, lab, workdir in prepared:
            variant.cleanup(lab, workdir)
        if leftovers := namespaces.remove_with_prefix(args.prefix):
            print(f"harness: removed {len(leftovers)} leftover namespaces", file=sys.stderr)
        (run_dir / "meta.json").write_text(json.dumps(
            {**json.loads((run_dir / "meta.json").read_text()), "elapsed_s": round(time.perf_counter() - began, 1)},
            indent=2))
    report.write(run_dir, args.results)
    print(f"harness: table written to {args.results}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
