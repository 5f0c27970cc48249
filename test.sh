#!/usr/bin/env bash
# Runs every test of VNetCompose. Needs root (the kernel tests create namespaces, veths,
# bridges, taps and nftables tables inside sandbox namespaces of their own).
# Installs what the tests need when it is missing: nft (nftables) and ping (iputils-ping).
# After the test projects, tests/packaging.sh packs the packages and uses them as a user would
# (the vnet .NET tool, an xunit v3 sample project); --no-packaging skips that step.
set -euo pipefail
cd "$(dirname "$0")"

packaging=1
args=()
for a in "$@"; do
  if [ "$a" = --no-packaging ]; then packaging=0; else args+=("$a"); fi
done

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
dotnet test VNetCompose.sln -c Release --no-build -nologo "${args[@]}" | tee "$log" || status=$?
if [ $packaging = 1 ]; then
  tests/packaging.sh | tee -a "$log" || status=$?
fi
# One closing line over all test projects (VSTest's "Passed!" lines, the sample's Microsoft.Testing.Platform
# summary): "N passed, N failed".
awk '/^(Passed|Failed)! / { for (i = 1; i <= NF; i++) { if ($i == "Passed:") p += $(i+1); if ($i == "Failed:") f += $(i+1) } }
     /^  succeeded: [0-9]+$/ { p += $NF } /^  failed: [0-9]+$/ { f += $NF }
     END { printf "%d passed, %d failed\n", p, f }' FS='[ ,]+' "$log"
exit $status
