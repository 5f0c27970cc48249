#!/bin/bash
# The vnet watch benchmark (see bench/watch/README.md):
#   sudo bench/watch/run.sh [--hosts 200] [--changes 100] [--idle 60] [--kinds mtu,addr,route,netns,nft]
# Publishes vnet (native AOT, what users run) to bench/out/vnet when it is missing or older than the
# sources, unless $VNET names a binary. Everything happens in namespaces wa-b<hex>-* it creates and removes.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)

if [ "$(id -u)" != 0 ]; then
    echo "run.sh: must run as root (it creates network namespaces)" >&2
    exit 1
fi
command -v nft >/dev/null || { echo "run.sh: needs nft (apt-get install nftables)" >&2; exit 1; }

binary=${VNET:-$repo/bench/out/vnet/vnet}
if [ -z "${VNET:-}" ]; then
    stale=""
    [ -x "$binary" ] && stale=$(find "$repo/src" \( -name bin -o -name obj \) -prune -o \( -name '*.cs' -o -name '*.csproj' \) -newer "$binary" -print | head -n 1)
    if [ ! -x "$binary" ] || [ -n "$stale" ]; then
        echo "run.sh: publishing vnet (native AOT) to $repo/bench/out/vnet" >&2
        dotnet publish "$repo/src/VNetCompose.Cli" -c Release -r linux-x64 -p:PublishAot=true -o "$repo/bench/out/vnet" -nologo -v quiet >&2
    fi
fi
exec /usr/bin/python3 "$here/watch_bench.py" --vnet "$binary" "$@"
