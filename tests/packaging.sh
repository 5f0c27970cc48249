#!/usr/bin/env bash
# The packages as a user gets them (called by test.sh after the build; needs root for the sample's labs):
#  1. dotnet pack of the solution into artifacts/packages, each package checked for its metadata;
#  2. the VNetCompose.Tool .NET tool installed from there into a temporary tool path: vnet --version;
#  3. samples/VNetCompose.Sample.Tests, an xunit v3 project that references VNetCompose.Xunit from that
#     folder (samples/nuget.config), restored, built and run with `dotnet test`;
#  4. the same test process killed with SIGKILL in the middle of a test: nothing of its lab is left
#     (ip netns list, the state directory) within 5 seconds;
#  5. without root: the unprivileged user of the sandbox tests ($VNET_TEST_USER, default vnettest, made by
#     test.sh) installs the tool from the packages, restores a copy of the sample, and runs its tests with
#     `vnet sandbox -- dotnet test` (skipped, saying so, when the user does not exist).
# Restores use a package folder of their own (artifacts/nuget), emptied of VNetCompose packages first, so a
# package rebuilt with the same version is never served from an older copy.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
feed=$root/artifacts/packages
export NUGET_PACKAGES=$root/artifacts/nuget
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
tools=$(mktemp -d)
trap 'rm -rf "$tools"' EXIT
step() { echo "packaging: $*"; }
fail() { echo "packaging: FAILED: $*" >&2; exit 1; }

step "dotnet pack -> artifacts/packages"
rm -rf "$feed"
dotnet pack VNetCompose.sln -c Release --no-build -o "$feed" -nologo -v quiet
for id in VNetCompose VNetCompose.Kernel VNetCompose.Model VNetCompose.Core VNetCompose.Netlink VNetCompose.Ovsdb VNetCompose.Testing VNetCompose.Xunit VNetCompose.Tool; do
  pkg=$feed/$id.0.1.0.nupkg
  [ -f "$pkg" ] && [ -f "$feed/$id.0.1.0.snupkg" ] || fail "$id: no .nupkg and .snupkg"
  nuspec=$(unzip -p "$pkg" "$id.nuspec")
  for field in '<license type="expression">Apache-2.0</license>' '<readme>README.md</readme>' '<repository type="git" url="https://github.com/' '<description>'; do
    grep -qF "$field" <<<"$nuspec" || fail "$id: nuspec lacks $field"
  done
  grep -q "<description>Package Description</description>" <<<"$nuspec" && fail "$id: default description"
  listing=$(unzip -l "$pkg")
  grep -q " README.md$" <<<"$listing" && grep -q " LICENSE$" <<<"$listing" || fail "$id: README.md or LICENSE missing"
  if [ "$id" != VNetCompose.Tool ]; then
    grep -q "lib/net10.0/$id.xml$" <<<"$listing" || fail "$id: no XML documentation"
  fi
done
step "9 packages with description, README, license, repository, XML docs and symbols"
# The library a user references brings its sibling assemblies as package dependencies (all packed above).
library=$(unzip -p "$feed/VNetCompose.0.1.0.nupkg" VNetCompose.nuspec)
for dependency in VNetCompose.Core VNetCompose.Netlink VNetCompose.Ovsdb; do
  grep -qF "<dependency id=\"$dependency\" version=\"0.1.0\"" <<<"$library" || fail "VNetCompose does not depend on $dependency 0.1.0"
done
step "VNetCompose depends on VNetCompose.Core, VNetCompose.Netlink and VNetCompose.Ovsdb"

rm -rf "$NUGET_PACKAGES"/vnetcompose*
step "dotnet tool install VNetCompose.Tool --tool-path (temporary) --add-source artifacts/packages"
dotnet tool install VNetCompose.Tool --version 0.1.0 --tool-path "$tools" --add-source "$feed" >/dev/null
version=$("$tools/vnet" --version)
[[ $version == 0.1.0* ]] || fail "vnet --version printed '$version'"
step "vnet --version: $version"

step "samples/VNetCompose.Sample.Tests: dotnet test against the packages"
rm -rf samples/VNetCompose.Sample.Tests/bin samples/VNetCompose.Sample.Tests/obj
(cd samples && dotnet test --project VNetCompose.Sample.Tests -c Release) | tee "$tools/sample.log"
grep -q "failed: 0" "$tools/sample.log" && grep -q "succeeded: 2" "$tools/sample.log" || fail "the sample's tests did not all pass"

step "the sample's test process killed with SIGKILL mid-test leaves nothing"
state=${VNET_STATE_DIR:-/run/vnet}
marker=$tools/prefix
SAMPLE_HANG_FILE=$marker samples/VNetCompose.Sample.Tests/bin/Release/net10.0/VNetCompose.Sample.Tests \
  -method "*HangsUntilKilled_WhenAsked" >"$tools/hang.log" 2>&1 &
pid=$!
for _ in $(seq 600); do [ -s "$marker" ] && break; sleep 0.1; done
[ -s "$marker" ] || { kill -9 $pid; cat "$tools/hang.log"; fail "the hanging test did not bring its lab up"; }
prefix=$(cat "$marker")
[ "$(ip netns list | grep -c "^$prefix")" -eq 3 ] || fail "lab $prefix is not up"
kill -9 $pid
wait $pid 2>/dev/null || true
start=$(date +%s%N)
left=""
for _ in $(seq 50); do
  left="$(ip netns list 2>/dev/null | grep "^$prefix" || true)$(ls "$state" 2>/dev/null | grep "^$prefix" || true)"
  [ -z "$left" ] && break
  sleep 0.1
done
[ -z "$left" ] || fail "5 s after kill -9, left: $left"
step "lab $prefix gone $(( ($(date +%s%N) - start) / 1000000 )) ms after kill -9 of the test process"

user=${VNET_TEST_USER:-vnettest}
if ! id -u "$user" >/dev/null 2>&1; then
  step "SKIPPED: the sample without root (no user $user; test.sh creates it)"
  exit 0
fi
step "the sample as $user, without root: vnet (the tool from the packages) sandbox -- dotnet test"
# A folder of the user's own: the packages, the sample and its topology, the tool, the user's package folder.
home=$(mktemp -d)
trap 'rm -rf "$tools" "$home"' EXIT
mkdir -p "$home/artifacts"
cp -r "$feed" "$home/artifacts/packages"
cp -r samples topologies "$home/"
rm -rf "$home/samples/VNetCompose.Sample.Tests/bin" "$home/samples/VNetCompose.Sample.Tests/obj"
chown -R "$user:" "$home"
chmod 755 "$home"
as_user() {
  setpriv --reuid="$user" --regid="$user" --init-groups --reset-env env PATH=/usr/local/bin:/usr/bin:/bin \
    HOME="$home" NUGET_PACKAGES="$home/nuget" DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 "$@"
}
as_user dotnet tool install VNetCompose.Tool --version 0.1.0 --tool-path "$home/tools" --add-source "$home/artifacts/packages" >/dev/null
# Restored outside: the sandbox has no network (vnet sandbox --uplink would give it one).
as_user sh -c "cd '$home/samples' && dotnet restore VNetCompose.Sample.Tests >/dev/null"
as_user sh -c "cd '$home/samples' && '$home/tools/vnet' sandbox -- dotnet test --project VNetCompose.Sample.Tests -c Release" | tee "$tools/sandboxed.log" \
  || fail "vnet sandbox -- dotnet test of the sample failed"
grep -q "failed: 0" "$tools/sandboxed.log" && grep -q "succeeded: 2" "$tools/sandboxed.log" || fail "the sample's tests did not all pass in a sandbox"
step "the sample's tests passed as $user in vnet sandbox"
