#!/usr/bin/python3
"""The lab built by one Python process with pyroute2 (Debian's python3-pyroute2).

usage: pyroute2_lab.py up|down PREFIX HOSTS

Written the way a pyroute2 user would: pyroute2.netns.create for each namespace, one
IPRoute socket per namespace opened inside it (netns.pushns/popns; a netlink socket stays
in the namespace it was created in), each veth created from its host namespace with the
peer placed directly in the switch namespace (no moves), and the masquerade rule sent
through pyroute2.nftables as one nf_tables batch per object. Teardown removes the
namespaces (pyroute2.netns.remove); their links go with them.
"""
from __future__ import annotations

import socket
import struct
import sys
from collections import OrderedDict

from pyroute2 import IPRoute, netns
from pyroute2.nftables.expressions import genex, ipv4addr
from pyroute2.nftables.main import NFTables

from labspec import BRIDGE, HOST_LINK, NAT_CHAIN, NAT_TABLE, SUBNET, Lab

NFPROTO_IPV4 = 2  # include/uapi/linux/netfilter.h
NF_INET_POST_ROUTING = "postrouting"
NF_IP_PRI_NAT_SRC = 100  # include/uapi/linux/netfilter_ipv4.h ("srcnat")
NFT_META_OIFNAME = 7  # include/uapi/linux/netfilter/nf_tables.h, enum nft_meta_keys
NFT_CMP_NEQ = 1  # enum nft_cmp_ops
NFT_REG_1 = 1  # enum nft_registers
IFNAMSIZ = 16


def socket_in(namespace: str) -> IPRoute:
    """An rtnetlink socket living in `namespace` (created there, used from here)."""
    netns.pushns(namespace)
    try:
        return IPRoute()
    finally:
        netns.popns()


def nftables_in(namespace: str) -> NFTables:
    netns.pushns(namespace)
    try:
        return NFTables(nfgen_family=NFPROTO_IPV4)
    finally:
        netns.popns()


def oifname_is_not(ifname: str) -> list:
    """`meta oifname != IFNAME`: load the output interface name into reg 1, compare."""
    load = OrderedDict(dreg=NFT_REG_1, key=NFT_META_OIFNAME)
    compare = OrderedDict(
        sreg=NFT_REG_1,
        op=NFT_CMP_NEQ,
        data={"attrs": [("NFTA_DATA_VALUE", ifname.encode().ljust(IFNAMSIZ, b"\0"))]},
    )
    return [genex("meta", load), genex("cmp", compare)]


def masquerade() -> list:
    return [{"attrs": [("NFTA_EXPR_NAME", "masq")]}]


def add_masquerade(lab: Lab) -> None:
    nft = nftables_in(lab.switch_namespace)
    try:
        nft.table("add", name=NAT_TABLE)
        nft.chain(
            "add",
            table=NAT_TABLE,
            name=NAT_CHAIN,
            hook=NF_INET_POST_ROUTING,
            type="nat",
            priority=NF_IP_PRI_NAT_SRC,
        )
        nft.rule(
            "add",
            table=NAT_TABLE,
            chain=NAT_CHAIN,
            expressions=(ipv4addr(src=str(SUBNET)), oifname_is_not(BRIDGE), masquerade()),
        )
    finally:
        nft.close()


def up(lab: Lab) -> None:
    for namespace in lab.namespaces():
        netns.create(namespace)
    switch = socket_in(lab.switch_namespace)
    try:
        switch.link("set", ifname="lo", state="up")
        switch.link("add", ifname=BRIDGE, kind="bridge", state="up")
        bridge = switch.link_lookup(ifname=BRIDGE)[0]
        switch.addr("add", index=bridge, address=str(SUBNET.network_address + 1), prefixlen=SUBNET.prefixlen)
        for i in lab.host_indices():
            with socket_in(lab.host_namespace(i)) as host:
                host.link("set", ifname="lo", state="up")
                host.link(
                    "add",
                    ifname=HOST_LINK,
                    kind="veth",
                    state="up",
                    peer={"ifname": lab.switch_port(i), "net_ns_fd": lab.switch_namespace},
                )
                eth0 = host.link_lookup(ifname=HOST_LINK)[0]
                host.addr("add", index=eth0, address=lab.host_address(i), prefixlen=SUBNET.prefixlen)
            switch.link("set", ifname=lab.switch_port(i), master=bridge, state="up")
    finally:
        switch.close()
    add_masquerade(lab)


def down(lab: Lab) -> None:
    for namespace in lab.namespaces():
        netns.remove(namespace)


def main(argv: list[str]) -> int:
    if len(argv) != 4 or argv[1] not in ("up", "down"):
        print(__doc__.splitlines()[2], file=sys.stderr)
        return 2
    lab = Lab(argv[2], int(argv[3]))
    (up if argv[1] == "up" else down)(lab)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
