"""The benchmark lab, described once: names and addresses every variant must build.

Lab(prefix, hosts) is N host namespaces <P>h1..<P>hN and one switch namespace <P>sw.
Host i has `lo` up and a veth `eth0` whose peer `h<i>` (in the switch namespace) is a
port of bridge `br0`; br0 holds 10.128.0.1/16, host i holds the (i+1)-th address of
10.128.0.0/16 (10.128.0.2 for host 1, so 65533 hosts fit); one nftables masquerade rule
(source 10.128.0.0/16, leaving through anything but br0) lives in the switch namespace.
Nothing is created in the machine's own namespace.
"""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

SUBNET = ipaddress.IPv4Network("10.128.0.0/16")
BRIDGE = "br0"
BRIDGE_ADDRESS = SUBNET.network_address + 1
HOST_LINK = "eth0"
NAT_TABLE = "vnetbench"
NAT_CHAIN = "postrouting"
MAX_HOSTS = SUBNET.num_addresses - 3  # network, bridge and broadcast are not hosts

# A per-run prefix such as "vb1a2b3-": lowercase so the vnet topology name
# (1-16 chars of [a-z0-9-], starting with a letter) can be derived from it.
PREFIX_PATTERN = re.compile(r"^[a-z][a-z0-9]{1,7}-$")


@dataclass(frozen=True)
class Lab:
    prefix: str
    hosts: int

    def __post_init__(self) -> None:
        if not PREFIX_PATTERN.match(self.prefix):
            raise ValueError(f"prefix {self.prefix!r} must match {PREFIX_PATTERN.pattern}")
        if not 1 <= self.hosts <= MAX_HOSTS:
            raise ValueError(f"hosts must be within 1..{MAX_HOSTS}, got {self.hosts}")

    @property
    def switch_namespace(self) -> str:
        return f"{self.prefix}sw"

    def host_namespace(self, i: int) -> str:
        return f"{self.prefix}h{i}"

    @staticmethod
    def switch_port(i: int) -> str:
        return f"h{i}"

    @staticmethod
    def host_address(i: int) -> str:
        return str(SUBNET.network_address + 1 + i)

    @staticmethod
    def host_cidr(i: int) -> str:
        return f"{Lab.host_address(i)}/{SUBNET.prefixlen}"

    @staticmethod
    def bridge_cidr() -> str:
        return f"{BRIDGE_ADDRESS}/{SUBNET.prefixlen}"

    def host_indices(self) -> range:
        return range(1, self.hosts + 1)

    def namespaces(self) -> list[str]:
        return [self.switch_namespace] + [self.host_namespace(i) for i in self.host_indices()]

    @property
    def topology_name(self) -> str:
        """The vnet topology name (owner tag): the prefix without its dash plus the size."""
        return f"{self.prefix[:-1]}-n{self.hosts}"
