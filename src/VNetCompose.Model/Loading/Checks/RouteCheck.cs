using System.Net;
using System.Net.Sockets;

namespace VNetCompose.Model.Loading;

/// <summary>
/// Routes against the interfaces of their namespace. Two routes with the same destination and metric are an
/// error (the kernel answers the second with EEXIST). A <c>dev</c> the topology does not declare there, or a
/// gateway outside every subnet of the namespace, is only a warning: vnet may be used on a namespace that
/// already exists and holds links of its own, and those may make the route valid.
/// </summary>
internal sealed class RouteCheck : ITopologyCheck
{
    private const string Loopback = "lo";

    public void Check(TopologyIndex index, DiagnosticBag diagnostics)
    {
        foreach (NamespaceDraft ns in index.Draft.Namespaces)
        {
            if (ns.Routes.Count == 0) continue;
            var subnets = new Lazy<Subnets>(() => new Subnets(index.NamedIn(ns.Name.Value).SelectMany(l => l.Addresses)));
            var deviceSubnets = new Dictionary<InterfaceDraft, Subnets>(ReferenceEqualityComparer.Instance);
            var seen = new Dictionary<(IPNetwork To, int? Metric), RouteDraft>();
            foreach (RouteDraft route in ns.Routes)
            {
                var key = (route.To, route.Metric);
                if (!seen.TryAdd(key, route))
                {
                    diagnostics.Error(route.At, route.Path,
                        $"a route to {route.Describe()} with the same metric is already declared (line {seen[key].At.Line})");
                }
                CheckDevice(route, ns.Name.Value, index, diagnostics);
                CheckGateway(route, ns.Name.Value, subnets, deviceSubnets, index, diagnostics);
            }
        }
    }

    private static void CheckDevice(RouteDraft route, string ns, TopologyIndex index, DiagnosticBag diagnostics)
    {
        if (route.Dev is { } dev && dev.Value != Loopback && index.Find(ns, dev.Value) is null)
        {
            diagnostics.Warning(dev.At, dev.Path,
                $"no interface '{dev.Value}' is declared in namespace '{ns}'; the route works only if one exists there already");
        }
    }

    private static void CheckGateway(RouteDraft route, string ns, Lazy<Subnets> namespaceSubnets, Dictionary<InterfaceDraft, Subnets> deviceSubnets,
        TopologyIndex index, DiagnosticBag diagnostics)
    {
        if (route.Via is not { } via || via.Value.IsIPv6LinkLocal)
            return;
        string where;
        Subnets subnets;
        if (route.Dev is { } dev)
        {
            if (dev.Value == Loopback || index.Find(ns, dev.Value) is not { } device)
                return;
            if (!deviceSubnets.TryGetValue(device, out subnets!)) deviceSubnets[device] = subnets = new Subnets(device.Addresses);
            where = $"'{dev.Value}'";
        }
        else
        {
            subnets = namespaceSubnets.Value;
            where = $"namespace '{ns}'";
        }
        bool reachable = subnets.Contain(via.Value);
        if (!reachable)
        {
            diagnostics.Warning(via.At, via.Path,
                $"gateway {via.Value} is in no subnet of {where}; the kernel refuses such a route (Network is unreachable)");
        }
    }

    /// <summary>
    /// The subnets of a set of addresses, for "is this gateway in one of them" in O(number of prefix lengths):
    /// the gateway masked to each length present, looked up in a set.
    /// </summary>
    private sealed class Subnets
    {
        private readonly HashSet<IPNetwork> networks = [];
        private readonly SortedSet<(AddressFamily Family, int Length)> lengths = [];

        public Subnets(IEnumerable<Located<IfAddress>> addresses)
        {
            foreach (Located<IfAddress> address in addresses)
            {
                IPNetwork network = AddressSyntax.NetworkOf(address.Value);
                networks.Add(network);
                lengths.Add((network.BaseAddress.AddressFamily, network.PrefixLength));
            }
        }

        public bool Contain(IPAddress address) =>
            lengths.Where(l => l.Family == address.AddressFamily).Any(l => networks.Contains(AddressSyntax.NetworkOf(new IfAddress(address, l.Length))));
    }
}
