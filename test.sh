#!/usr/bin/env bash
# Runs every test of VNetCompose. Needs root (the kernel tests create namespaces, veths,
# bridges, taps and nftables tables inside sandbox namespaces of their own).
# Installs what the tests need when it is missing: nft (nftables) and ping (iputils-ping).
set -euo pipefail
cd "$(dirname "$0")"

need=()
command -v nft >/dev/null 2>&1 || need+=(nftables)
command -v ping >/dev/null 2>&1 || need+=(iputils-ping)
if [ ${#need[@]} -gt 0 ]; then
  echo "test.sh: installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

dotnet build VNetCompose.sln -c Release -warnaserror -nologo -clp:ErrorsOnly
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
dotnet test VNetCompose.sln -c Release --no-build -nologo "$@" | tee "$log" || status=$?
# One closing line over all test projects: "N passed, N failed".
awk '/^(Passed|Failed)! / { for (i = 1; i <= NF; i++) { if ($i == "Passed:") p += $(i+1); if ($i == "Failed:") f += $(i+1) } }
     END { printf "%d passed, %d failed\n", p, f }' FS='[ ,]+' "$log"
exit $status
