#!/bin/bash
# The whole benchmark in one command (see bench/README.md):
#   bench/run.sh [--sizes 10,50,200] [--runs 5] [--variants shell,ip-batch,pyroute2,vnet]
#                [--warmup 0|1] [--settle SECONDS] [--results FILE]
# Publishes the vnet binary (native AOT) first when it is missing or stale, unless $VNET is set.
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

# The vnet variant runs the native AOT binary a user would install (bench/out/vnet/vnet unless
# $VNET names another). It is published from this checkout when it is missing or older than any
# source or project file, so the numbers are always those of the code being benchmarked.
repo=$(cd "$bench/.." && pwd)
vnet_selected() {
    local variants="shell,ip-batch,pyroute2,vnet" previous=""
    for arg in "$@"; do
        case "$arg" in
            --variants=*) variants=${arg#--variants=} ;;
        esac
        [ "$previous" = "--variants" ] && variants=$arg
        previous=$arg
    done
    case ",${variants// /,}," in *,vnet,*) return 0 ;; *) return 1 ;; esac
}

publish_vnet() {
    local binary="$bench/out/vnet/vnet" rid stale=""
    if [ -e "$binary" ]; then
        stale=$(find "$repo/src" "$repo/Directory.Build.props" "$repo/Directory.Packages.props" \
            \( -name bin -o -name obj \) -prune -o \
            \( -name '*.cs' -o -name '*.csproj' -o -name '*.props' \) -newer "$binary" -print | head -n 1)
        [ -z "$stale" ] && return 0
        echo "run.sh: $binary is older than $stale: publishing it again" >&2
    fi
    if ! command -v dotnet >/dev/null; then
        echo "run.sh: no dotnet SDK to publish vnet with; the vnet variant uses ${binary} as it is (or is skipped)" >&2
        return 0
    fi
    case "$(uname -m)" in
        x86_64) rid=linux-x64 ;;
        aarch64) rid=linux-arm64 ;;
        *) echo "run.sh: no native AOT target for $(uname -m); the vnet variant is skipped" >&2; return 0 ;;
    esac
    # Native AOT links with the system C toolchain (clang, or gcc as fallback) and zlib.
    if ! command -v gcc >/dev/null && ! command -v clang >/dev/null || [ ! -e /usr/include/zlib.h ]; then
        DEBIAN_FRONTEND=noninteractive apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends gcc libc6-dev zlib1g-dev >/dev/null
    fi
    echo "run.sh: publishing vnet (native AOT, $rid) to $bench/out/vnet" >&2
    dotnet publish "$repo/src/VNetCompose.Cli" -c Release -r "$rid" -p:PublishAot=true -o "$bench/out/vnet" -nologo -v quiet >&2
}

ensure_tools
if [ -z "${VNET:-}" ] && vnet_selected "$@"; then
    publish_vnet
fi

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
