#!/bin/bash
# The whole benchmark in one command (see bench/README.md):
#   bench/run.sh [--sizes 10,50,200] [--runs 5] [--variants shell,ip-batch,pyroute2,vnet]
#                [--warmup 0|1] [--settle SECONDS] [--results FILE]
# Needs root (it creates network namespaces). Installs what it needs with apt-get.
# Everything happens in named namespaces <prefix>* created here and removed in every
# outcome; nothing is configured in the machine's own namespace.
set -euo pipefail

bench=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
python=/usr/bin/python3  # Debian's interpreter: the one python3-pyroute2 installs into

if [ "$(id -u)" != 0 ]; then
    echo "run.sh: must run as root (it creates network namespaces)" >&2
    exit 1
fi

# Installs the tools every variant and the check need, with one apt-get update first.
ensure_tools() {
    local missing=()
    command -v ip >/dev/null || missing+=(iproute2)
    command -v nft >/dev/null || missing+=(nftables)
    command -v ping >/dev/null || missing+=(iputils-ping)
    [ -x /usr/bin/time ] || missing+=(time)
    [ -x "$python" ] || missing+=(python3)
    if [ -x "$python" ] && ! "$python" -c 'import pyroute2' 2>/dev/null; then
        missing+=(python3-pyroute2)
    fi
    if [ ${#missing[@]} -gt 0 ]; then
        echo "run.sh: installing ${missing[*]}" >&2
        DEBIAN_FRONTEND=noninteractive apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
    # python3-pyroute2 may have pulled in python3 itself
    if ! "$python" -c 'import pyroute2' 2>/dev/null; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-pyroute2 >/dev/null
    fi
}

namespaces_with_prefix() {
    ip netns list | awk '{print $1}' | grep -F -- "$1" | grep -E "^$1" || true
}

remove_namespaces() {
    local ns
    for ns in $(namespaces_with_prefix "$prefix"); do
        ip netns del "$ns" 2>/dev/null || true
    done
}

ensure_tools

prefix="vb$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')-"
if [ -n "$(namespaces_with_prefix "$prefix")" ]; then
    echo "run.sh: refusing to run: namespaces with prefix $prefix already exist" >&2
    exit 1
fi

harness=""
on_exit() {
    local status=$?
    if [ -n "$harness" ] && kill -0 "$harness" 2>/dev/null; then
        kill -TERM "$harness" 2>/dev/null || true
        wait "$harness" 2>/dev/null || true
    fi
    remove_namespaces
    exit "$status"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# In the background so the traps above run at once on a signal (bash defers traps
# while a foreground child runs); the harness cleans up on SIGTERM itself.
"$python" "$bench/lab/harness.py" --prefix "$prefix" "$@" &
harness=$!
wait "$harness"
