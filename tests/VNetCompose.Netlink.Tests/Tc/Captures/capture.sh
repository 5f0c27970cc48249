#!/usr/bin/env bash
# Records the netlink requests `tc` sends for a matrix of commands, as test data for the traffic-control
# codec's byte-for-byte tests (TcCaptureTests). Needs root and strace.
#
#   sudo tests/VNetCompose.Netlink.Tests/Tc/Captures/capture.sh [TC_BINARY] > tc-VERSION.txt
#
# strace prints a request even when the kernel refuses it (a kernel without netem answers "Specified qdisc
# kind is unknown" after tc sent its request). Everything runs in a namespace of its own ("shcap-<pid>"),
# deleted at the end; its links: v0 (a veth end), v1 (its peer), ifb0. Output, one line per case:
#   NAME|COMMAND|HEX OF THE LAST REQUEST OF THAT TYPE
# after a header naming tc's version and the ifindexes of v0 and ifb0 (the tests build with those).
#
# tc-6.1.0.txt comes from Debian 12's tc (iproute2 6.1.0, latency/jitter as 32-bit psched ticks);
# tc-6.18.0.txt from iproute2 v6.18.0 built from source (`./configure && make SUBDIRS="lib tc"`, run with
# TC_LIB_DIR pointing at the .dist files), which sends TCA_NETEM_LATENCY64/JITTER64 like every tc since 6.10.
set -euo pipefail
tc_bin=${1:-tc}
ns="shcap-$$"
ip netns add "$ns"
trap 'ip netns del "$ns"' EXIT
ip -n "$ns" link add v0 type veth peer name v1
ip -n "$ns" link add ifb0 type ifb
for l in v0 v1 ifb0; do ip -n "$ns" link set "$l" up; done
index() { ip -n "$ns" -j link show "$1" | sed -n 's/.*"ifindex":\([0-9]*\).*/\1/p'; }

echo "# $("$tc_bin" -V | head -1); ifindex v0=$(index v0) ifb0=$(index ifb0)"

# NAME|nlmsg_type of the request to keep (36 NEWQDISC, 37 DELQDISC, 38 GETQDISC, 44 NEWTFILTER, 45 DELTFILTER)|tc arguments
cases=(
  "netem-delay|36|qdisc add dev v0 root netem delay 40ms"
  "netem-delay-jitter|36|qdisc add dev v0 root netem delay 40ms 5ms"
  "netem-delay-jitter-correlation|36|qdisc add dev v0 root netem delay 40ms 5ms 25%"
  "netem-distribution-normal|36|qdisc add dev v0 root netem delay 100ms 10ms distribution normal"
  "netem-distribution-pareto|36|qdisc add dev v0 root netem delay 100ms 10ms distribution pareto"
  "netem-distribution-paretonormal|36|qdisc add dev v0 root netem delay 100ms 10ms 30% distribution paretonormal"
  "netem-loss|36|qdisc add dev v0 root netem loss 0.5%"
  "netem-loss-correlation|36|qdisc add dev v0 root netem loss 0.5% 25%"
  "netem-duplicate|36|qdisc add dev v0 root netem duplicate 1%"
  "netem-duplicate-correlation|36|qdisc add dev v0 root netem loss 2% 10% duplicate 1% 20%"
  "netem-corrupt|36|qdisc add dev v0 root netem corrupt 0.1%"
  "netem-corrupt-correlation|36|qdisc add dev v0 root netem corrupt 0.1% 5%"
  "netem-reorder|36|qdisc add dev v0 root netem delay 10ms reorder 25% 50%"
  "netem-reorder-gap|36|qdisc add dev v0 root netem delay 10ms reorder 25% gap 5"
  "netem-rate|36|qdisc add dev v0 root netem rate 100mbit"
  "netem-rate-overhead|36|qdisc add dev v0 root netem rate 10mbit 20 100 -4"
  "netem-rate64|36|qdisc add dev v0 root netem rate 50gbit"
  "netem-limit|36|qdisc add dev v0 root netem limit 5000"
  "netem-everything|36|qdisc add dev v0 root netem limit 2000 delay 40ms 5ms 25% distribution normal loss 0.5% 25% duplicate 1% corrupt 0.1% 5% reorder 10% 50% rate 100mbit"
  "netem-replace-handle|36|qdisc replace dev v0 root handle 5602: netem delay 20ms loss 1%"
  "netem-change|36|qdisc change dev v0 root handle 5602: netem delay 80ms"
  "tbf-limit|36|qdisc add dev v0 root tbf rate 10mbit burst 5000 limit 30000"
  "tbf-latency|36|qdisc add dev v0 root tbf rate 100mbit burst 50000 latency 50ms"
  "tbf-gigabit|36|qdisc add dev v0 root tbf rate 1gbit burst 500000 latency 20ms"
  "tbf-rate64|36|qdisc add dev v0 root tbf rate 50gbit burst 25000000 latency 10ms"
  "tbf-tiny|36|qdisc add dev v0 root tbf rate 8bit burst 1600 limit 3000"
  "tbf-odd|36|qdisc add dev v0 root tbf rate 12345kbit burst 15140 latency 1s"
  "tbf-replace-handle|36|qdisc replace dev v0 root handle 5601: tbf rate 20mbit burst 10000 latency 50ms"
  "tbf-ifb|36|qdisc replace dev ifb0 root handle 5601: tbf rate 50mbit burst 25000 latency 50ms"
  "ingress-add|36|qdisc add dev v0 handle ffff: ingress"
  "clsact-add|36|qdisc add dev v1 clsact"
  "root-delete|37|qdisc del dev v0 root"
  "root-delete-handle|37|qdisc del dev v0 root handle 5601:"
  "ingress-delete|37|qdisc del dev v0 ingress"
  "clsact-delete|37|qdisc del dev v1 clsact"
  "qdisc-dump|38|qdisc show"
  "filter-redirect|44|filter add dev v0 parent ffff: protocol all prio 1 u32 match u32 0 0 action mirred egress redirect dev ifb0"
  "filter-redirect-cookie|44|filter add dev v0 parent ffff: protocol all prio 1 u32 match u32 0 0 action mirred egress redirect dev ifb0 cookie 766e6574"
  "filter-redirect-clsact|44|filter add dev v1 ingress protocol all prio 1 u32 match u32 0 0 action mirred egress redirect dev ifb0 cookie 766e6574"
  "filter-delete|45|filter del dev v0 parent ffff: protocol all prio 1"
)

for case in "${cases[@]}"; do
  IFS='|' read -r name type args <<<"$case"
  # shellcheck disable=SC2086 # the arguments are meant to split
  trace=$(ip netns exec "$ns" strace -f -e trace=sendmsg -e write=all "$tc_bin" $args 2>&1 >/dev/null || true)
  # The hex dump lines of each sendmsg: " | 00000  4c 00 ... |"; keep the last request of the wanted type.
  hex=$(awk -v want="$type" '
    /^sendmsg\(/ { if (cur != "") last_of(cur); cur = "" ; next }
    /^ \| [0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]  / { line = substr($0, 11, 49); gsub(/ /, "", line); cur = cur line; next }
    END { if (cur != "") last_of(cur); print keep }
    function hexval(s,  i, v) { v = 0; for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1; return v }
    function last_of(h) { if (hexval(substr(h, 11, 2) substr(h, 9, 2)) == want + 0) keep = h }
  ' <<<"$trace")
  if [ -z "$hex" ]; then echo "capture.sh: no request of type $type for: tc $args" >&2; echo "$trace" >&2; exit 1; fi
  echo "$name|tc $args|$hex"
done
