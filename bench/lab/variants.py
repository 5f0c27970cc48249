"""The ways of building the lab that the benchmark compares, each behind one small adapter.

An adapter writes whatever files its variant needs into a work directory (untimed: a user
has these files before running anything) and returns the commands to time. A phase whose
command is None does not exist for that variant ("n/a" in the results).
"""
from __future__ import annotations

import shlex
import subprocess
import sys
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path

from labspec import BRIDGE, HOST_LINK, NAT_CHAIN, NAT_TABLE, SUBNET, Lab

HERE = Path(__file__).resolve().parent
DEBIAN_PYTHON = "/usr/bin/python3"


@dataclass(frozen=True)
class Commands:
    up: list[str]
    down: list[str]
    noop: list[str] | None = None  # re-apply of an unchanged lab
    plan: list[str] | None = None  # diff of the converged lab against its description
    # exit codes that mean success, per phase (e.g. `plan --detailed-exitcode` must be 0)
    expected_exit: dict[str, int] = field(default_factory=dict)


class Variant(ABC):
    name: str = ""
    description: str = ""

    def unavailable_reason(self) -> str | None:
        """Why this variant cannot run on this machine (it is then skipped), or None."""
        return None

    @abstractmethod
    def prepare(self, lab: Lab, workdir: Path) -> Commands:
        """Write the variant's files for `lab` into `workdir`; return the commands to time."""

    def cleanup(self, lab: Lab, workdir: Path) -> None:
        """Best-effort removal of what deleting the lab's namespaces does not remove."""


def nat_ruleset() -> str:
    """The masquerade rule as an `nft -f` file, as `nft list ruleset` prints it."""
    return (
        f"table ip {NAT_TABLE} {{\n"
        f"\tchain {NAT_CHAIN} {{\n"
        "\t\ttype nat hook postrouting priority srcnat; policy accept;\n"
        f'\t\tip saddr {SUBNET} oifname != "{BRIDGE}" masquerade\n'
        "\t}\n"
        "}\n"
    )


def write_script(path: Path, comment: str, lines: list[str]) -> Path:
    path.write_text("#!/bin/bash\n" f"# {comment}\n" "set -e\n" + "\n".join(lines) + "\n")
    path.chmod(0o755)
    return path


def teardown_lines(lab: Lab) -> list[str]:
    return [f"ip netns del {ns}" for ns in lab.namespaces()]


class ShellVariant(Variant):
    name = "shell"
    description = (
        "bash script, one `ip`/`nft` process per step as tutorials do (`ip -n NS ...`; "
        "each veth created with its peer directly in the switch namespace); "
        "teardown: one `ip netns del` per namespace"
    )

    def prepare(self, lab: Lab, workdir: Path) -> Commands:
        sw = lab.switch_namespace
        up = [
            f"ip netns add {sw}",
            f"ip -n {sw} link set lo up",
            f"ip -n {sw} link add {BRIDGE} type bridge",
            f"ip -n {sw} addr add {lab.bridge_cidr()} dev {BRIDGE}",
            f"ip -n {sw} link set {BRIDGE} up",
        ]
        for i in lab.host_indices():
            host, port = lab.host_namespace(i), lab.switch_port(i)
            up += [
                f"ip netns add {host}",
                f"ip -n {host} link set lo up",
                f"ip -n {host} link add {HOST_LINK} type veth peer name {port} netns {sw}",
                f"ip -n {host} addr add {lab.host_cidr(i)} dev {HOST_LINK}",
                f"ip -n {host} link set {HOST_LINK} up",
                f"ip -n {sw} link set {port} master {BRIDGE}",
                f"ip -n {sw} link set {port} up",
            ]
        rule = f'ip saddr {SUBNET} oifname != "{BRIDGE}" masquerade'
        up += [
            f"ip netns exec {sw} nft add table ip {NAT_TABLE}",
            f"ip netns exec {sw} nft add chain ip {NAT_TABLE} {NAT_CHAIN} "
            "'{ type nat hook postrouting priority srcnat; policy accept; }'",
            f"ip netns exec {sw} nft add rule ip {NAT_TABLE} {NAT_CHAIN} {shlex.quote(rule)}",
        ]
        return Commands(
            up=["bash", str(write_script(workdir / "up.sh", "lab up, one command per step", up))],
            down=["bash", str(write_script(workdir / "down.sh", "lab down", teardown_lines(lab)))],
        )


class IpBatchVariant(Variant):
    """iproute2 batch files: one `ip -batch` process per namespace (`ip -n NS -batch FILE`).

    A batch file runs in one namespace, and addresses and `lo` can only be set from inside
    a host's namespace, so the floor is one `ip` process per host. Two placements of the
    veth creation were measured (see README): from each host's batch (`veth_from="host"`,
    the peer created directly in the switch namespace, then enslaved from the switch's
    batch) or all from the switch's batch (`veth_from="switch"`, enslaved and up at
    creation, the host end created directly in the host namespace).
    """

    def __init__(self, name: str, veth_from: str) -> None:
        self.name = name
        self.veth_from = veth_from
        self.description = (
            f"`ip -batch` files, one `ip -n NS -batch FILE` per namespace, veths created from "
            f"the {veth_from} side with the peer directly in its namespace; `ip netns exec SW "
            "nft -f`; teardown: one `ip -batch` of `netns del` lines"
        )

    def prepare(self, lab: Lab, workdir: Path) -> Commands:
        sw = lab.switch_namespace
        batches = workdir / "batch"
        batches.mkdir(exist_ok=True)

        def batch(name: str, lines: list[str]) -> str:
            path = batches / name
            path.write_text("\n".join(lines) + "\n")
            return shlex.quote(str(path))

        nft_file = workdir / "nat.nft"
        nft_file.write_text(nat_ruleset())
        switch_lines = [
            "link set lo up",
            f"link add {BRIDGE} up type bridge",
            f"addr add {lab.bridge_cidr()} dev {BRIDGE}",
        ]
        if self.veth_from == "switch":
            # `up` is not accepted for a peer placed in another namespace (ENOTCONN),
            # so the host end is set up from the host's own batch.
            switch_lines += [
                f"link add {lab.switch_port(i)} master {BRIDGE} up type veth "
                f"peer name {HOST_LINK} netns {lab.host_namespace(i)}"
                for i in lab.host_indices()
            ]
        up = [
            "ip -batch " + batch("netns-add", [f"netns add {ns}" for ns in lab.namespaces()]),
            f"ip -n {sw} -batch " + batch("switch", switch_lines),
        ]
        for i in lab.host_indices():
            host = lab.host_namespace(i)
            if self.veth_from == "switch":
                create = f"link set {HOST_LINK} up"
            else:
                create = f"link add {HOST_LINK} up type veth peer name {lab.switch_port(i)} netns {sw}"
            lines = ["link set lo up", create, f"addr add {lab.host_cidr(i)} dev {HOST_LINK}"]
            up.append(f"ip -n {host} -batch " + batch(f"h{i}", lines))
        if self.veth_from == "host":
            ports = [f"link set {lab.switch_port(i)} master {BRIDGE} up" for i in lab.host_indices()]
            up.append(f"ip -n {sw} -batch " + batch("ports", ports))
        up.append(f"ip netns exec {sw} nft -f {shlex.quote(str(nft_file))}")
        down = ["ip -batch " + batch("netns-del", [f"netns del {ns}" for ns in lab.namespaces()])]
        return Commands(
            up=["bash", str(write_script(workdir / "up.sh", "lab up via ip -batch", up))],
            down=["bash", str(write_script(workdir / "down.sh", "lab down via ip -batch", down))],
        )


class Pyroute2Variant(Variant):
    name = "pyroute2"
    description = (
        "one /usr/bin/python3 process with Debian's python3-pyroute2: netns.create, one "
        "IPRoute socket per namespace (pushns/popns), veth peer created directly in the "
        "switch namespace, NAT through pyroute2.nftables (no `nft` process); "
        "teardown: netns.remove per namespace"
    )

    def unavailable_reason(self) -> str | None:
        probe = subprocess.run([DEBIAN_PYTHON, "-c", "import pyroute2"], capture_output=True)
        return None if probe.returncode == 0 else f"{DEBIAN_PYTHON} cannot import pyroute2"

    def prepare(self, lab: Lab, workdir: Path) -> Commands:
        program = [DEBIAN_PYTHON, str(HERE / "pyroute2_lab.py")]
        return Commands(
            up=program + ["up", lab.prefix, str(lab.hosts)],
            down=program + ["down", lab.prefix, str(lab.hosts)],
        )


def all_variants() -> dict[str, Variant]:
    from vnet_adapter import VnetVariant

    variants: list[Variant] = [
        ShellVariant(),
        IpBatchVariant("ip-batch", veth_from="host"),
        IpBatchVariant("ip-batch-sw", veth_from="switch"),
        Pyroute2Variant(),
        VnetVariant(),
    ]
    return {v.name: v for v in variants}


if __name__ == "__main__":
    print("\n".join(f"{name}: {v.description}" for name, v in all_variants().items()), file=sys.stdout)
