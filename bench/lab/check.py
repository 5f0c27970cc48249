"""Independent check that a variant really built the lab (so no variant wins by doing less).

Uses `ip -j`, `nft -j` and `ping` as the oracle, run after bring-up and outside the timing.
"""
from __future__ import annotations

import json
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import namespaces
from labspec import BRIDGE, HOST_LINK, NAT_CHAIN, SUBNET, Lab

PING_DEADLINE_S = 5  # a bridge port may take ~1 s to forward (architecture.md, Readiness)


def ip_json(namespace: str, *args: str) -> list[dict]:
    out = subprocess.run(["ip", "-n", namespace, "-j", *args], capture_output=True, text=True, check=True).stdout
    return json.loads(out or "[]")


def is_up(link: dict) -> bool:
    return "UP" in link.get("flags", [])


def kind(link: dict) -> str | None:
    return link.get("linkinfo", {}).get("info_kind")


def ipv4_cidrs(link: dict) -> set[str]:
    return {f"{a['local']}/{a['prefixlen']}" for a in link.get("addr_info", []) if a.get("family") == "inet"}


def check_switch(lab: Lab) -> list[str]:
    problems = []
    links = {link["ifname"]: link for link in ip_json(lab.switch_namespace, "-d", "addr", "show")}
    expected = {"lo", BRIDGE} | {lab.switch_port(i) for i in lab.host_indices()}
    if set(links) != expected:
        missing, extra = sorted(expected - set(links)), sorted(set(links) - expected)
        problems.append(f"switch links: {len(links)} instead of {len(expected)}; missing {missing[:5]} extra {extra[:5]}")
    if not is_up(links.get("lo", {})):
        problems.append("switch: lo is not up")
    bridge = links.get(BRIDGE, {})
    if kind(bridge) != "bridge" or not is_up(bridge) or ipv4_cidrs(bridge) != {lab.bridge_cidr()}:
        problems.append(f"switch: {BRIDGE} is not an up bridge holding {lab.bridge_cidr()}")
    bad_ports = [
        name
        for i in lab.host_indices()
        if (port := links.get(name := lab.switch_port(i))) is not None
        and not (kind(port) == "veth" and port.get("master") == BRIDGE and is_up(port))
    ]
    if bad_ports:
        problems.append(f"switch: {len(bad_ports)} ports not up veths of {BRIDGE}, e.g. {bad_ports[:5]}")
    return problems


def check_host(lab: Lab, i: int) -> list[str]:
    links = {link["ifname"]: link for link in ip_json(lab.host_namespace(i), "-d", "addr", "show")}
    eth0 = links.get(HOST_LINK, {})
    if (
        set(links) != {"lo", HOST_LINK}
        or not is_up(links["lo"])
        or kind(eth0) != "veth"
        or not is_up(eth0)
        or ipv4_cidrs(eth0) != {lab.host_cidr(i)}
    ):
        return [f"host {i}: expected lo up and an up veth {HOST_LINK} with {lab.host_cidr(i)}, got {sorted(links)}"]
    return []


def check_nat(lab: Lab) -> list[str]:
    """Exactly one masquerade rule, in a nat postrouting chain, with the lab's two matches."""
    out = subprocess.run(
        ["ip", "netns", "exec", lab.switch_namespace, "nft", "-j", "list", "ruleset"],
        capture_output=True, text=True, check=True,
    ).stdout
    objects = json.loads(out)["nftables"]
    chains = {(c["table"], c["name"]): c for o in objects if (c := o.get("chain"))}
    rules = [r for o in objects if (r := o.get("rule"))]
    expected_matches = [
        {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}},
         "right": {"prefix": {"addr": str(SUBNET.network_address), "len": SUBNET.prefixlen}}},
        {"op": "!=", "left": {"meta": {"key": "oifname"}}, "right": BRIDGE},
    ]
    if len(rules) != 1:
        return [f"nat: {len(rules)} rules instead of 1"]
    rule = rules[0]
    chain = chains.get((rule["table"], rule["chain"]), {})
    matches = [e["match"] for e in rule["expr"] if "match" in e]
    problems = []
    if chain.get("type") != "nat" or chain.get("hook") != NAT_CHAIN:
        problems.append(f"nat: rule is not in a nat postrouting chain: {chain}")
    if matches != expected_matches or not any("masquerade" in e for e in rule["expr"]):
        problems.append(f"nat: rule is not `ip saddr {SUBNET} oifname != {BRIDGE} masquerade`: {rule['expr']}")
    return problems


def ping(lab: Lab, source_host: int, address: str) -> tuple[bool, float]:
    started = time.perf_counter()
    done = subprocess.run(
        ["ip", "netns", "exec", lab.host_namespace(source_host),
         "ping", "-n", "-q", "-c", "1", "-w", str(PING_DEADLINE_S), address],
        capture_output=True, check=False,
    )
    return done.returncode == 0, time.perf_counter() - started


def guarded(what: str, check, *args) -> list[str]:
    """Run one check; a failing oracle command (e.g. a namespace that is missing) is a problem too."""
    try:
        return check(*args)
    except (subprocess.CalledProcessError, ValueError, KeyError) as error:
        detail = error.stderr.strip() if isinstance(error, subprocess.CalledProcessError) else repr(error)
        return [f"{what}: {detail}"]


def check_lab(lab: Lab) -> dict:
    """Everything the lab should be; returns {ok, problems, ping_s} for the run record."""
    problems = []
    found = set(namespaces.with_prefix(lab.prefix))
    if found != set(lab.namespaces()):
        problems.append(f"namespaces: {len(found)} with prefix instead of {lab.hosts + 1}")
    problems += guarded("switch", check_switch, lab)
    with ThreadPoolExecutor(max_workers=4) as pool:
        for host_problems in pool.map(lambda i: guarded(f"host {i}", check_host, lab, i), lab.host_indices()):
            problems += host_problems
    problems += guarded("nat", check_nat, lab)
    reached, ping_s = ping(lab, 1, lab.host_address(lab.hosts))
    if not reached:
        problems.append(f"ping host 1 -> host {lab.hosts} ({lab.host_address(lab.hosts)}) failed")
    bridge_reached, _ = ping(lab, 1, lab.bridge_cidr().split("/")[0])
    if not bridge_reached:
        problems.append("ping host 1 -> bridge failed")
    return {"ok": not problems, "problems": problems[:20], "ping_s": round(ping_s, 4)}
