#!/bin/bash
# Records what iproute2 sends for the link kinds this machine's kernel may lack (the kernel refuses them, but
# strace shows the request first). Run as root; writes one NAME.txt per case: the command, then the RTM_NEWLINK
# request after its 16-byte header, in hex. The parent (a bridge) has ifindex 2 in the fresh namespace.
set -euo pipefail
cd "$(dirname "$0")"
ns="capture-$$"
ip netns add "$ns"
trap 'ip netns del "$ns"' EXIT
ip -n "$ns" link add p0 type bridge
capture() {
    local name=$1; shift
    local hex
    hex=$( (strace -f -s 65536 -xx -e trace=sendmsg ip -n "$ns" "$@" 2>&1 >/dev/null || true) \
        | grep 'nlmsg_type=0x10 ' | grep -o '"\(\\x[0-9a-f][0-9a-f]\)*"' | tail -1 | tr -d '"\\x')
    printf 'ip %s\n%s\n' "$*" "$hex" > "$name.txt"
}
capture vlan link add link p0 name p0.10 type vlan id 10 protocol 802.1Q
capture vlan-8021ad link add link p0 name p0.20 type vlan id 20 protocol 802.1ad
capture ipvlan-l2 link add link p0 name iv0 type ipvlan mode l2
capture ipvlan-l3s link add link p0 name iv1 type ipvlan mode l3s
capture dummy link add d0 type dummy
