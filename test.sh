#!/usr/bin/env bash
# Runs every test of VNetCompose. Needs root (the kernel tests create namespaces, veths,
# bridges, taps and nftables tables inside sandbox namespaces of their own).
# Installs what the tests need when it is missing: nft (nftables), ping (iputils-ping) and Open vSwitch
# (openvswitch-switch; the OVS tests start their own ovsdb-server and ovs-vswitchd, never the system's);
# for the tests of `vnet sandbox`: newuidmap/newgidmap (uidmap), pasta (passt), setfacl (acl).
# The sandbox tests run vnet as an unprivileged user: `vnettest` ($VNET_TEST_USER) is created when missing
# (useradd, with /etc/subuid and /etc/subgid ranges), and given read-write access to /dev/net/tun with an ACL
# when it has none (distributions make /dev/net/tun 0666; machines without udev leave it 0600).
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
for tool in ovsdb-server ovs-vswitchd ovsdb-tool ovs-vsctl; do
  command -v "$tool" >/dev/null 2>&1 || { need+=(openvswitch-switch); break; }
done
command -v newuidmap >/dev/null 2>&1 || need+=(uidmap)
command -v pasta >/dev/null 2>&1 || need+=(passt)
command -v setfacl >/dev/null 2>&1 || need+=(acl)
if [ ${#need[@]} -gt 0 ]; then
  echo "test.sh: installing ${need[*]}"
  # Package scripts would start the system's Open vSwitch (invoke-rc.d / deb-systemd-invoke); a
  # policy-rc.d answering 101 ("action forbidden") keeps every service stopped during this install.
  # An existing policy-rc.d is set aside and put back afterwards.
  policy=/usr/sbin/policy-rc.d
  saved=""
  if [ -e "$policy" ]; then saved=$(mktemp); cp -p "$policy" "$saved"; fi
  restore_policy() { if [ -n "$saved" ]; then mv -f "$saved" "$policy"; else rm -f "$policy"; fi; }
  trap restore_policy EXIT
  printf '#!/bin/sh\nexit 101\n' > "$policy"
  chmod 755 "$policy"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  restore_policy
  trap - EXIT
fi

# The unprivileged user of the sandbox tests.
user=${VNET_TEST_USER:-vnettest}
if ! id -u "$user" >/dev/null 2>&1; then
  echo "test.sh: creating the unprivileged user $user (sandbox tests)"
  useradd --create-home --shell /bin/sh "$user"
fi
for ids in subuid subgid; do
  if ! grep -q "^$user:" /etc/$ids 2>/dev/null; then
    # The next free range of 65536 after those given already.
    start=$(awk -F: 'BEGIN { end = 100000 } { if ($2 + $3 > end) end = $2 + $3 } END { print end }' /etc/$ids 2>/dev/null || echo 100000)
    usermod "--add-${ids}s" "$start-$((start + 65535))" "$user"
  fi
done
if [ -e /dev/net/tun ] && ! setpriv --reuid="$user" --regid="$user" --init-groups -- test -r /dev/net/tun -a -w /dev/net/tun; then
  setfacl -m "u:$user:rw" /dev/net/tun
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
