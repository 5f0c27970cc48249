#!/usr/bin/env python3
"""kill -9 at random times during `vnet up` and `vnet down` of an N-host lab.

Each round: start `vnet up`, SIGKILL it after a random delay (uniform over the time it changes the kernel), look at what
the kill left (state file, namespaces, links that carry the instance's group but no alias: the window between a
link's creation and its marker), then `vnet up` must exit 0 and `vnet plan --detailed-exitcode` exit 0; start
`vnet down`, SIGKILL it after a random delay, then `vnet down` must exit 0 and leave no namespace of the lab and no
state file. Works only in namespaces named with its prefix, in a state directory of its own; removes them at the end.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time

SUBNET = "10.129"


def topology(name: str, hosts: int) -> str:
    lines = [
        "version: 1",
        f"name: {name}",
        "namespaces:",
        "  sw: {}",
        *[f"  h{i}: {{ routes: [ {{ to: default, via: {SUBNET}.0.1 }} ] }}" for i in range(1, hosts + 1)],
        "bridges:",
        f"  br0: {{ namespace: sw, addresses: [{SUBNET}.0.1/16] }}",
        "veths:",
    ]
    for i in range(1, hosts + 1):
        lines.append(f"  - a: {{ namespace: h{i}, name: eth0, addresses: [{SUBNET}.{i // 250}.{i % 250 + 2}/16] }}")
        lines.append(f"    b: {{ namespace: sw, name: p{i}, bridge: br0 }}")
    lines += ["nat:", f"  - masquerade: {{ namespace: sw, source: {SUBNET}.0.0/16, out: \"!br0\" }}"]
    return "\n".join(lines) + "\n"


def link_group(instance: str) -> int:
    """Ownership.LinkGroup: 30 bits of FNV-1a of the instance name, between 2^30 and 2^31 - 1."""
    h = 2166136261
    for b in instance.encode():
        h = ((h ^ b) * 16777619) & 0xFFFFFFFF
    return (h & 0x3FFFFFFF) | 0x40000000


class Lab:
    def __init__(self, vnet: list[str], prefix: str, hosts: int, directory: str):
        self.vnet, self.prefix, self.hosts = vnet, prefix, hosts
        self.name = "kills"
        self.instance = prefix + self.name
        self.state = os.path.join(directory, "state")
        os.makedirs(self.state, mode=0o700)
        self.file = os.path.join(directory, "lab.yaml")
        with open(self.file, "w") as f:
            f.write(topology(self.name, hosts))
        self.env = dict(os.environ, VNET_STATE_DIR=self.state)

    def args(self, *command: str) -> list[str]:
        return [*self.vnet, *command, "--prefix", self.prefix, self.file]

    def run(self, *command: str, by_name: bool = False) -> subprocess.CompletedProcess:
        argv = [*self.vnet, *command, "--name", self.instance] if by_name else self.args(*command)
        return subprocess.run(argv, env=self.env, capture_output=True, text=True, timeout=300)

    def start(self, *command: str, by_name: bool = False) -> subprocess.Popen:
        argv = [*self.vnet, *command, "--name", self.instance] if by_name else self.args(*command)
        return subprocess.Popen(argv, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def namespaces(self) -> list[str]:
        out = subprocess.run(["ip", "-j", "netns", "list"], capture_output=True, text=True).stdout.strip()
        return sorted(n["name"] for n in json.loads(out or "[]") if n["name"].startswith(self.prefix))

    def unmarked_links(self) -> list[str]:
        """Links with the instance's group and no alias: what a kill between creation and marking leaves."""
        group = link_group(self.instance)
        found = []
        for ns in self.namespaces():
            out = subprocess.run(["ip", "-n", ns, "-j", "link"], capture_output=True, text=True).stdout.strip()
            for link in json.loads(out or "[]"):
                if link.get("group") == str(group) and not link.get("ifalias"):
                    found.append(f"{ns}/{link['ifname']}")
        return found

    def state_file(self) -> bool:
        return os.path.exists(os.path.join(self.state, self.instance + ".json"))

    def cleanup(self) -> None:
        for ns in self.namespaces():
            subprocess.run(["ip", "netns", "del", ns])


def window(lab: Lab, changed, *command: str, by_name: bool = False) -> tuple[float, float]:
    """Runs the command once, unkilled: when it first changed something (changed() turned true; polled every
    2 ms) and when it ended, in seconds from its start. Kills are drawn from that window: before it the process
    is only starting (the .NET runtime, the YAML), which no kill can harm."""
    start = time.monotonic()
    process = lab.start(*command, by_name=by_name)
    first = None
    while process.poll() is None:
        if first is None and changed():
            first = time.monotonic() - start
        time.sleep(0.002)
    end = time.monotonic() - start
    if process.returncode != 0:
        sys.exit(f"kills: {' '.join(command)} failed before any kill (exit {process.returncode})")
    return (first if first is not None else 0.0), end


def run_directory_entries(prefix: str) -> int:
    try:
        return sum(1 for n in os.listdir("/run/netns") if n.startswith(prefix))
    except FileNotFoundError:
        return 0


def kill_after(process: subprocess.Popen, delay: float) -> tuple[bool, float]:
    """SIGKILL after delay: whether it was killed (False when it had already finished) and when it ended."""
    start = time.monotonic()
    try:
        process.wait(timeout=delay)
        return False, time.monotonic() - start
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
        process.wait()
        return True, delay


def adapt(window: list[float], killed: bool, ended: float) -> None:
    """The machine's load changes while the harness runs: a process that finished before its kill moves the end of
    the window to when it finished, so that kills keep landing while the process changes the kernel."""
    if not killed:
        window[1] = max(window[0] + 0.01, (window[1] + ended) / 2)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hosts", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=100, help="each round kills one up and one down")
    parser.add_argument("--prefix", default="vk" + secrets.token_hex(3) + "-")
    parser.add_argument("--vnet", default=None, help="the vnet program (default: dotnet src/VNetCompose.Cli/bin/Release/net10.0/vnet.dll)")
    parser.add_argument("--seed", type=int, default=None)
    a = parser.parse_args()
    if os.geteuid() != 0:
        return print("kills: run as root (it creates namespaces)", file=sys.stderr) or 2
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    vnet = a.vnet.split() if a.vnet else ["dotnet", os.path.join(root, "src/VNetCompose.Cli/bin/Release/net10.0/vnet.dll")]
    seed = a.seed if a.seed is not None else secrets.randbelow(2**31)
    rng = random.Random(seed)
    directory = tempfile.mkdtemp(prefix="vnet-kills-")
    lab = Lab(vnet, a.prefix, a.hosts, directory)
    tally = {"up_kills": 0, "up_mid": 0, "up_unmarked": 0, "up_ok": 0, "down_kills": 0, "down_mid": 0, "down_ok": 0, "failures": []}
    try:
        up_window = list(window(lab, lambda: lab.state_file(), "up", "-q"))
        down_window = list(window(lab, lambda: run_directory_entries(lab.prefix) < a.hosts + 1, "down", "-q", by_name=True))
        print(f"kills: {a.hosts} hosts, prefix {a.prefix}, seed {seed}: up changes the kernel from {up_window[0]:.2f} s to "
              f"{up_window[1]:.2f} s, down from {down_window[0]:.2f} s to {down_window[1]:.2f} s", flush=True)
        for r in range(1, a.rounds + 1):
            # up, killed at a random time
            delay = rng.uniform(*up_window)
            killed, ended = kill_after(lab.start("up", "-q"), delay)
            tally["up_kills"] += killed
            adapt(up_window, killed, ended)
            unmarked = lab.unmarked_links()
            before = lab.run("plan", "--detailed-exitcode")
            # Where the kill landed: before the first change (no state file yet), in the middle (the plan has changes
            # left), after the last (verifying); a plan refusing with a conflict is what this harness exists to catch.
            if lab.state_file() and before.returncode == 2:
                tally["up_mid"] += 1
            if before.returncode == 1:
                tally["failures"].append(f"round {r}: after a kill of up at {delay:.3f} s the plan refuses: {before.stdout[-1500:]}{before.stderr}")
            if unmarked:
                tally["up_unmarked"] += 1
            up = lab.run("up", "-q")
            plan = lab.run("plan", "--detailed-exitcode")
            if up.returncode == 0 and plan.returncode == 0:
                tally["up_ok"] += 1
            else:
                tally["failures"].append(f"round {r}: after a kill of up at {delay:.3f} s: up exit {up.returncode}, plan exit {plan.returncode}: "
                                         + (up.stdout + up.stderr + plan.stdout)[-2000:])
                lab.run("up", "-q")
            # down, killed at a random time
            delay = rng.uniform(*down_window)
            killed, ended = kill_after(lab.start("down", "-q", by_name=True), delay)
            tally["down_kills"] += killed
            adapt(down_window, killed, ended)
            if 0 < len(lab.namespaces()) < a.hosts + 1:
                tally["down_mid"] += 1
            down = lab.run("down", "-q", by_name=True) if lab.state_file() else lab.run("down", "-q")
            left = lab.namespaces()
            if down.returncode == 0 and not left and not lab.state_file():
                tally["down_ok"] += 1
            else:
                tally["failures"].append(f"round {r}: after a kill of down at {delay:.3f} s: down exit {down.returncode}, left {left}: "
                                         + (down.stdout + down.stderr)[-2000:])
                lab.run("down", "-q")
            print(f"round {r}: up killed {tally['up_kills']} (mid-apply {tally['up_mid']}, unmarked links left {tally['up_unmarked']}), "
                  f"converged {tally['up_ok']}; down killed {tally['down_kills']} (mid-apply {tally['down_mid']}), clean {tally['down_ok']}",
                  flush=True)
    finally:
        lab.cleanup()
        shutil.rmtree(directory, ignore_errors=True)
    print(json.dumps({k: v for k, v in tally.items() if k != "failures"}))
    for failure in tally["failures"]:
        print("FAILURE " + failure)
    return 1 if tally["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
