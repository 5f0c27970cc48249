using System.Globalization;
using VNetCompose.Core.Observation;
using VNetCompose.Core.Planning;
using VNetCompose.Core.Shaping;
using VNetCompose.Kernel;
using VNetCompose.Kernel.Links;
using VNetCompose.Model;

namespace VNetCompose.Core;

/// <summary>
/// Every object an instance owns, found by vnet's ownership marks alone (<c>vnet status --name</c>, where no topology
/// says what to expect): the namespaces its state file says it created, links carrying its alias (a veth pair as one
/// row), the addresses on them, routes with vnet's protocol, sysctls it changed (with the value it will restore), its
/// NAT table and rules, its qdiscs (root handles 5601:/5602:, ingress redirects with its cookie) and its Open vSwitch
/// bridges and ports. Each row says what the object is; they are all <see cref="ObjectState.Ok"/>.
/// </summary>
public static class OwnedObjects
{
    /// <summary>The rows, grouped by object class in the order plans list them, each class by namespace and name.</summary>
    /// <param name="kernel">Read for qdiscs, which an observation for a teardown does not read.</param>
    /// <param name="observed">The kernel's state, observed for the instance.</param>
    /// <param name="instance">The instance whose objects these are.</param>
    public static IReadOnlyList<StatusRow> Of(IKernel kernel, ObservedState observed, string instance)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        ArgumentNullException.ThrowIfNull(observed);
        ArgumentNullException.ThrowIfNull(instance);
        string marker = Ownership.LinkMarker(instance);
        var rows = new List<StatusRow>();
        var snapshots = observed.Snapshots.OrderBy(s => s.Key.Name ?? "", StringComparer.Ordinal).ToList();

        foreach (string name in (observed.Previous?.Holdings.CreatedNamespaces ?? []).Order(StringComparer.Ordinal))
        {
            if (observed.Exists(NetnsId.Named(name)))
                rows.Add(Row(new NamespaceObject(name), "created by vnet"));
        }

        var addresses = new List<StatusRow>();
        var pairs = new HashSet<(NetnsId, int)>();
        foreach (var (ns, snapshot) in snapshots)
        {
            foreach (var link in snapshot.Links.Where(l => l.Alias == marker))
            {
                string kind = LinkKinds.Of(link)?.Name ?? link.Kind;
                if (link.Peer is { Namespace: { } peerNs } peer && observed.Snapshot(peerNs)?.FindLink(peer.Index) is { } peerLink
                    && peerLink.Alias == marker)
                {
                    if (pairs.Add((ns, link.Index)) && pairs.Add((peerNs, peerLink.Index)))
                        rows.Add(Row(new VethObject(new LinkObject(ns, link.Name), new LinkObject(peerNs, peerLink.Name)), Describe("veth pair", link)));
                }
                else
                {
                    string parent = link.Peer is null && link.IfLink is { Namespace: { } parentNs } iflink
                        && observed.Snapshot(parentNs)?.FindLink(iflink.Index) is { } parentLink
                        ? $" on {new LinkObject(parentNs, parentLink.Name).Path}" : "";
                    rows.Add(Row(new LinkObject(ns, link.Name), Describe(kind + parent, link)));
                }
                foreach (var a in snapshot.Addresses.Where(a => a.LinkIndex == link.Index && !a.Address.IsIPv6LinkLocal))
                    addresses.Add(Row(new AddressObject(new LinkObject(ns, link.Name), new IfAddress(a.Address, a.PrefixLength)), "on an owned link"));
            }
        }
        rows.AddRange(addresses);

        foreach (var (ns, snapshot) in snapshots)
        {
            foreach (var route in snapshot.Routes.Where(r => r.Protocol == RouteProtocols.VNet))
            {
                string? dev = route.OutputIndex == 0 ? null : snapshot.FindLink(route.OutputIndex)?.Name;
                var request = new RouteRequest(route.Destination, route.PrefixLength, route.Gateway, dev, route.Metric, route.Protocol);
                rows.Add(Row(RouteObject.Of(ns, request), string.Join(" ", new[] { route.Gateway is { } gw ? $"via {gw}" : null, dev is null ? null : $"dev {dev}" }
                    .OfType<string>())));
            }
        }

        foreach (var sysctl in observed.Previous?.Holdings.Sysctls ?? [])
        {
            if (!observed.Exists(sysctl.Namespace)) continue;
            string now = observed.Sysctls.GetValueOrDefault(new SysctlKey(sysctl.Namespace, sysctl.Key))
                ?? kernel.ReadSysctl(sysctl.Namespace, sysctl.Key) ?? "?";
            rows.Add(Row(new SysctlObject(sysctl.Namespace, sysctl.Key), $"{Clean(now)} (down restores {Clean(sysctl.Value)})"));
        }

        rows.AddRange(Qdiscs(kernel, snapshots, marker));

        // A teardown's observation skips the NAT tables of namespaces it deletes anyway: read those here.
        var tables = new Dictionary<NetnsId, NatTableState>(observed.NatTables);
        foreach (var ns in observed.Previous?.Holdings.NatNamespaces ?? [])
        {
            if (!tables.ContainsKey(ns) && observed.Exists(ns) && observed.NatUnavailable is null
                && kernel.ReadNatTable(ns, Ownership.NatTableName(instance)) is { } table)
                tables[ns] = table;
        }
        foreach (var (ns, table) in tables.OrderBy(t => t.Key.Name ?? "", StringComparer.Ordinal))
        {
            rows.Add(Row(new NatTableObject(ns, table.Name), $"{table.Rules.Count} rule(s)"));
            rows.AddRange(table.Rules.Select(r => Row(new NatRuleObject(ns, r), r.Chain.ToString().ToLowerInvariant() + " chain")));
        }

        if (observed.Ovs?.Switch is { } ovs)
        {
            var host = observed.Previous?.Options.MapNamespace(Topology.HostNamespace) ?? NetnsId.Current;
            foreach (var bridge in ovs.Bridges.Where(b => b.Owner == instance))
                rows.Add(Row(new OvsBridgeObject(host, bridge.Name), $"datapath {bridge.Datapath}"));
            foreach (var bridge in ovs.Bridges)
            {
                foreach (var port in bridge.Ports.Where(p => p.Owner == instance && p.Name != bridge.Name))
                {
                    string vlan = port.Tag is { } tag ? $", vlan {tag.ToString(CultureInfo.InvariantCulture)}"
                        : port.Trunks.Count > 0 ? $", trunks {string.Join(",", port.Trunks)}" : "";
                    rows.Add(Row(new OvsPortObject(host, port.Name), $"on {bridge.Name}{vlan}"));
                }
            }
        }
        return rows;
    }

    /// <summary>vnet's root qdiscs and ingress redirects on owned links, read only where the link dump shows one may be. An
    /// ingress is one row: the redirect with the qdisc of the ifb it leads to.</summary>
    private static IEnumerable<StatusRow> Qdiscs(IKernel kernel, List<KeyValuePair<NetnsId, NamespaceSnapshot>> snapshots, string marker)
    {
        if (kernel.TrafficControl is not { } tc) yield break;
        foreach (var (ns, snapshot) in snapshots)
        {
            var owned = snapshot.Links.Where(l => l.Alias == marker).ToList();
            if (!owned.Any(l => l.RootQdisc is "tbf" or "netem" || l.Kind == "ifb")) continue;
            var qdiscs = tc.ListQdiscs(ns);
            var roots = qdiscs.Where(q => q.IsVNetRoot && owned.Any(l => l.Index == q.LinkIndex)).ToList();
            var redirects = qdiscs.Any(q => q.IsIngress)
                ? tc.ListIngressRedirects(ns).Where(r => r.IsVNet && owned.Any(l => l.Index == r.LinkIndex)).ToList()
                : [];
            foreach (var root in roots.Where(q => !redirects.Any(r => r.TargetIndex == q.LinkIndex)))
                yield return Row(new QdiscObject(new LinkObject(ns, root.Link), ShapedDirection.Egress), Words(root));
            foreach (var redirect in redirects)
            {
                var shaped = roots.FirstOrDefault(q => q.LinkIndex == redirect.TargetIndex);
                yield return Row(new QdiscObject(new LinkObject(ns, redirect.Link), ShapedDirection.Ingress),
                    (shaped is null ? "" : Words(shaped) + " ") + $"on {redirect.Target}");
            }
        }
    }

    private static string Words(QdiscState qdisc) =>
        string.Join(" ", QdiscText.Describe(qdisc.Parameters).Select(p => p.Key == "qdisc" ? p.Value : $"{p.Key} {p.Value}"));

    private static string Describe(string what, LinkState link) =>
        $"{what}, {(link.AdminUp ? "up" : "down")}" + (link.Mtu != LinkKind.EthernetMtu ? $", mtu {link.Mtu.ToString(CultureInfo.InvariantCulture)}" : "");

    private static StatusRow Row(ObjectAddress address, string detail) => new(address, ObjectState.Ok, detail);

    private static string Clean(string value) => string.Join(' ', value.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
}
