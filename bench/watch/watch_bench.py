#!/usr/bin/python3
"""How fast `vnet watch --heal` reports and repairs hand changes to a lab of N hosts (bench/watch/README.md).

Builds the lab with `vnet up` (sandboxed: --host-netns and --prefix, every namespace starting with the
prefix), runs `vnet watch --heal -o json` as a child process and reads its JSON lines as they come, then:
  1. idle: the watch process's CPU time over --idle seconds of no change;
  2. for each kind of change (mtu, addr, route, netns, nft), --changes changes made by hand with `ip`/`nft`:
     time from starting the command to the drift line, and to the "healed ... ok" line; each repair is
     checked with `ip -j`/`nft -j`;
  3. a burst: one script deleting every address of every host (`ip -n NS addr flush dev eth0`, one after
     another): every missing address must be reported, and repaired in one healing pass.
Everything is removed at the end (`vnet down`, then any namespace left with the prefix).
"""
from __future__ import annotations

import argparse
import json
import os
import queue
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent
EXTRA_ADDRESSES = 4  # per host besides its primary: 5 addresses a host, 1000 for 200 hosts


def primary(i: int) -> str:
    return f"10.128.{(i + 1) // 256}.{(i + 1) % 256}/16"


def extras(i: int) -> list[str]:
    return [f"10.{128 + j}.{i // 250}.{i % 250 + 1}/32" for j in range(1, EXTRA_ADDRESSES + 1)]


def topology(hosts: int) -> str:
    lines = ["version: 1", "name: wbench", "namespaces:"]
    for i in range(1, hosts + 1):
        lines.append(f"  h{i}: {{ routes: [ {{ to: default, via: 10.128.0.1 }} ] }}")
    lines += ["bridges:", "  br0: { namespace: host, addresses: [10.128.0.1/16] }", "veths:"]
    for i in range(1, hosts + 1):
        addresses = ", ".join([primary(i)] + extras(i))
        lines.append(f"  - a: {{ namespace: h{i}, name: eth0, mtu: 1500, addresses: [{addresses}] }}")
        lines.append(f"    b: {{ namespace: host, name: p{i}, bridge: br0 }}")
    lines += ["nat:", '  - masquerade: { namespace: host, source: 10.128.0.0/16, out: "!br0" }']
    return "\n".join(lines) + "\n"


def run(*command: str) -> tuple[float, float]:
    """Runs a command that must succeed; returns when it started and ended (perf_counter)."""
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True)
    end = time.perf_counter()
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {result.stderr.strip()}")
    return start, end


def ip_json(*args: str):
    return json.loads(subprocess.run(["ip", "-j", *args], capture_output=True, text=True, check=True).stdout or "[]")


class Watch:
    """`vnet watch` as a child process; its JSON lines are queued with the time they were read."""

    def __init__(self, command: list[str], env: dict[str, str]):
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, bufsize=1)
        self.lines: queue.Queue[tuple[float, dict]] = queue.Queue()
        self.stderr: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=lambda: self.stderr.extend(self.process.stderr), daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.put((time.perf_counter(), json.loads(line)))

    def next(self, match, timeout: float = 30.0) -> tuple[float, dict]:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no matching event within {timeout} s; stderr: {''.join(self.stderr)[-2000:]}")
            t, event = self.lines.get(timeout=left)
            if match(event):
                return t, event

    def drain(self) -> list[dict]:
        events = []
        while not self.lines.empty():
            events.append(self.lines.get_nowait()[1])
        return events

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def stop(self) -> int:
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=30)


def summary(values: list[float]) -> str:
    return f"{statistics.median(values):.1f} / {max(values):.1f}" if values else "n/a"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vnet", default=os.environ.get("VNET", str(BENCH / "out" / "vnet" / "vnet")))
    parser.add_argument("--hosts", type=int, default=200)
    parser.add_argument("--changes", type=int, default=100, help="changes of each kind")
    parser.add_argument("--idle", type=float, default=60.0, help="seconds of idle CPU measurement")
    parser.add_argument("--prefix", default=f"wa-b{secrets.token_hex(2)}-")
    parser.add_argument("--kinds", default="mtu,addr,route,netns,nft")
    args = parser.parse_args()

    prefix, hostns = args.prefix, args.prefix + "sw"
    instance = prefix + "wbench"
    work = Path(tempfile.mkdtemp(prefix="vnet-watch-bench-"))
    os.environ["VNET_STATE_DIR"] = str(work / "state")  # every vnet run here (up, watch, down) uses it
    env = dict(os.environ)
    file = work / "wbench.yaml"
    file.write_text(topology(args.hosts))
    placement = ["--host-netns", hostns, "--prefix", prefix]
    vnet = args.vnet
    print(f"load average at start: {os.getloadavg()}; {os.cpu_count()} CPUs; lab of {args.hosts} hosts, prefix {prefix}", flush=True)

    start, end = run(vnet, "up", "-q", str(file), *placement)
    print(f"vnet up: {end - start:.2f} s", flush=True)
    watch = Watch([vnet, "watch", str(file), "--heal", "-o", "json", *placement], env)
    results: dict[str, dict[str, list[float]]] = {}
    try:
        t0 = time.perf_counter()
        t, started = watch.next(lambda e: e["event"] == "started", timeout=60)
        assert started["ok"], started
        print(f"watch started in {t - t0:.2f} s: {started['objects']} objects in {started['namespaces']} namespaces; "
              f"RSS {watch.rss_kib() // 1024} MiB", flush=True)

        cpu0, wall0 = watch.cpu_seconds(), time.perf_counter()
        time.sleep(args.idle)
        cpu1, wall1 = watch.cpu_seconds(), time.perf_counter()
        idle = watch.drain()
        print(f"idle: {cpu1 - cpu0:.2f} s CPU over {wall1 - wall0:.0f} s ({100 * (cpu1 - cpu0) / (wall1 - wall0):.3f} %), "
              f"{len(idle)} events reported meanwhile", flush=True)

        def change(kind: str, i: int) -> list[str]:
            ns = f"{prefix}h{i}"
            return {
                "mtu": ["ip", "-n", ns, "link", "set", "eth0", "mtu", "1280"],
                "addr": ["ip", "-n", ns, "addr", "del", primary(i), "dev", "eth0"],
                "route": ["ip", "-n", ns, "route", "del", "default"],
                "netns": ["ip", "netns", "del", ns],
                "nft": ["ip", "netns", "exec", hostns, "nft", f"add rule inet vnet-{instance} postrouting ip saddr 10.99.{i % 250}.0/24 masquerade"],
            }[kind]

        def repaired(kind: str, i: int) -> bool:
            ns = f"{prefix}h{i}"
            if kind == "nft":
                rules = [x for x in json.loads(subprocess.run(["ip", "netns", "exec", hostns, "nft", "-j", "list", "table", "inet", f"vnet-{instance}"],
                                                                capture_output=True, text=True, check=True).stdout)["nftables"] if "rule" in x]
                return len(rules) == 1
            links = ip_json("-n", ns, "addr", "show", "dev", "eth0")
            routes = ip_json("-n", ns, "route", "show", "default")
            return (bool(links) and links[0]["mtu"] == 1500 and any(a["local"] + "/16" == primary(i) for a in links[0]["addr_info"])
                    and len(routes) == 1)

        unexpected = 0
        for kind in args.kinds.split(","):
            r = results.setdefault(kind, {"drift": [], "drift_after_exit": [], "watch_latency": [], "healed": [], "heal_duration": []})
            for n in range(args.changes):
                i = 1 + (n * 7) % args.hosts  # spread over the hosts
                watch.drain()
                started_at, ended_at = run(*change(kind, i))
                t_drift, drift = watch.next(lambda e: e["event"] == "drift" and not e["ok"])
                t_healed, healed = watch.next(lambda e: e["event"] in ("healed", "not_healed"))
                if healed["event"] != "healed" or not healed["ok"]:
                    raise RuntimeError(f"{kind} #{n}: not healed: {healed}")
                r["drift"].append(1000 * (t_drift - started_at))
                r["drift_after_exit"].append(1000 * (t_drift - ended_at))
                r["watch_latency"].append(drift["latency_ms"])
                r["healed"].append(1000 * (t_healed - started_at))
                r["heal_duration"].append(healed["duration_ms"])
                if not repaired(kind, i):
                    raise RuntimeError(f"{kind} #{n}: ip/nft do not show the repair of host {i}")
                time.sleep(0.05)  # let late kernel events (IPv6 address setup on a recreated link) pass
                unexpected += sum(1 for e in watch.drain() if e["event"] in ("drift", "healed") and not e.get("ok", True))
            print(f"{kind:6} drift line {summary(r['drift'])} ms (after the command exited {summary(r['drift_after_exit'])}, "
                  f"watch's own {summary(r['watch_latency'])}); healed {summary(r['healed'])} ms (repair {summary(r['heal_duration'])})",
                  flush=True)
        print(f"unexpected drift reports between changes: {unexpected}", flush=True)

        # The burst: every address of every host deleted by one script, one `ip` after another.
        watch.drain()
        script = work / "flush.sh"
        script.write_text("".join(f"ip -n {prefix}h{i} addr flush dev eth0\n" for i in range(1, args.hosts + 1)))
        started_at, ended_at = run("bash", str(script))
        expected = {f"missing address {a} on {prefix}h{i}/eth0" for i in range(1, args.hosts + 1)
                    for a in [primary(i)] + extras(i)}
        reported: set[str] = set()
        heals = 0
        while True:
            t, e = watch.next(lambda e: e["event"] in ("drift", "healed", "not_healed"), timeout=120)
            reported.update(line["text"] for line in e.get("lines", []))
            if e["event"] == "not_healed":
                raise RuntimeError(f"burst: not healed: {e}")
            if e["event"] == "healed":
                heals += 1
                if e["ok"]:
                    t_ok, healed = t, e
                    break
        time.sleep(0.3)
        later = [e for e in watch.drain() if e["event"] == "healed"]
        missing = expected - reported
        addresses = sum(len([a for a in ip_json("-n", f"{prefix}h{i}", "addr", "show", "dev", "eth0")[0]["addr_info"] if a["scope"] == "global"])
                        for i in range(1, args.hosts + 1))
        enobufs = sum(1 for line in watch.stderr if "ENOBUFS" in line)
        print(f"burst: {len(expected)} addresses deleted by a script of {args.hosts} `ip` commands in {ended_at - started_at:.2f} s; "
              f"{len(expected) - len(missing)} of them reported missing; {heals + len(later)} healing pass(es) "
              f"({healed['changes']} changes, {healed['kernel_writes']} kernel writes, {healed['duration_ms']:.0f} ms); "
              f"ok {1000 * (t_ok - ended_at):.0f} ms after the script ended; {addresses} addresses present again; "
              f"ENOBUFS resyncs logged: {enobufs}; RSS {watch.rss_kib() // 1024} MiB", flush=True)
        print(f"load average at end: {os.getloadavg()}", flush=True)
        return 0 if not missing and addresses == len(expected) else 1
    finally:
        code = watch.stop()
        print(f"watch exit code after SIGINT: {code}", flush=True)
        subprocess.run([vnet, "down", "-q", str(file), *placement], env=env, capture_output=True)
        for ns in subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout.split():
            if ns.startswith(prefix):
                subprocess.run(["ip", "netns", "del", ns])


if __name__ == "__main__":
    sys.exit(main())
