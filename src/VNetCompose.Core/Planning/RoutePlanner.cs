using System.Net;
using System.Net.Sockets;
using VNetCompose.Kernel;

namespace VNetCompose.Core.Planning;

/// <summary>
/// Main-table routes of each namespace: declared ones added or replaced (owned) or in conflict (foreign, same
/// destination and metric), owned ones no longer declared deleted. Kernel routes are not vnet's business.
/// </summary>
internal sealed class RoutePlanner : IObjectPlanner
{
    private readonly record struct RouteKey(AddressFamily Family, IPAddress Destination, int PrefixLength, int Metric);

    private static RouteKey KeyOf(IPAddress destination, int prefixLength, int? metric)
    {
        bool v6 = destination.AddressFamily == AddressFamily.InterNetworkV6;
        // The kernel keeps no priority for IPv4 routes without one, and 1024 for IPv6 (IP6_RT_PRIO_USER).
        return new RouteKey(destination.AddressFamily, AddressMath.Mask(destination, prefixLength), prefixLength, metric ?? (v6 ? 1024 : 0));
    }

    public void Plan(PlanContext context)
    {
        var namespaces = context.Desired.Namespaces.Select(n => n.Id)
            .Concat(context.Observed.Snapshots.Keys.OrderBy(k => k.Name, StringComparer.Ordinal)).Distinct();
        foreach (var ns in namespaces)
        {
            if (context.Deleted.Contains(ns)) continue;
            var wanted = context.Declared.GetValueOrDefault(ns)?.Routes ?? [];
            var snapshot = context.Live(ns);
            var routes = (snapshot?.Routes ?? []).Where(r => r.Protocol != RouteProtocols.Kernel
                && !(r.OutputIndex != 0 && context.Gone.Contains((ns, r.OutputIndex)))).ToList();
            var matched = new HashSet<RouteState>();
            foreach (var route in wanted)
            {
                var key = KeyOf(route.Route.Destination, route.Route.PrefixLength, route.Route.Metric);
                var address = RouteObject.Of(ns, route.Route);
                context.Objects.Add(new PlanObject(address, []));
                var present = routes.FirstOrDefault(r => KeyOf(r.Destination, r.PrefixLength, r.Metric) == key);
                if (present is null)
                {
                    int change = context.AddChange(ChangeAction.Create, address, RouteAttributes(null, route.Route), location: route.Location);
                    context.AddStep(new ReplaceRouteStep(change, ns, route.Route, null) { Needs = Needs(context, ns, route.Route) });
                    continue;
                }
                matched.Add(present);
                if (present.Protocol != RouteProtocols.VNet)
                {
                    context.Conflicts.Add(new PlanConflict(address,
                        $"a route vnet did not create holds this destination and metric (protocol {present.Protocol})", route.Location));
                    continue;
                }
                var before = Request(snapshot!, present);
                bool differs = !Equals(before.Gateway, route.Route.Gateway)
                    || (route.Route.Device is not null && before.Device != route.Route.Device);
                if (!differs) continue;
                int changed = context.AddChange(ChangeAction.Change, address, RouteAttributes(before, route.Route), location: route.Location);
                context.AddStep(new ReplaceRouteStep(changed, ns, route.Route, before) { Needs = Needs(context, ns, route.Route) });
            }
            foreach (var stale in routes.Where(r => r.Protocol == RouteProtocols.VNet && !matched.Contains(r)))
            {
                var request = Request(snapshot!, stale);
                int change = context.AddChange(ChangeAction.Delete, RouteObject.Of(ns, request), RouteAttributes(request, null));
                context.AddStep(new DeleteRouteStep(change, ns, request)
                {
                    Needs = request.Device is { } dev ? [new LinkObject(ns, dev)] : [],
                });
            }
        }
    }

    /// <summary>
    /// A route needs its output link, and, for a gateway, the declared addresses whose prefix holds the gateway
    /// (the kernel refuses a gateway it cannot reach: "Nexthop has invalid gateway") with their links up.
    /// </summary>
    private static IReadOnlyList<ObjectAddress> Needs(PlanContext context, NetnsId ns, RouteRequest route)
    {
        var needs = new List<ObjectAddress>();
        if (route.Device is { } dev) needs.Add(new LinkObject(ns, dev));
        if (route.Gateway is { } gateway)
        {
            foreach (var link in context.Desired.AllLinks.Where(l => l.Namespace == ns))
            {
                foreach (var a in link.Addresses.Where(a => a.Address.AddressFamily == gateway.AddressFamily
                    && new IPNetwork(AddressMath.Mask(a.Address, a.PrefixLength), a.PrefixLength).Contains(gateway)))
                {
                    needs.Add(link.Object);
                    needs.Add(new AddressObject(link.Object, a));
                }
            }
        }
        return needs;
    }

    /// <summary>An observed route as the request that recreates it; the family's default metric becomes null.</summary>
    private static RouteRequest Request(NamespaceSnapshot snapshot, RouteState r)
    {
        int? metric = r.Metric is { } m && m != KeyOf(r.Destination, r.PrefixLength, null).Metric ? m : null;
        return new RouteRequest(r.Destination, r.PrefixLength, r.Gateway,
            r.OutputIndex == 0 ? null : snapshot.FindLink(r.OutputIndex)?.Name, metric, r.Protocol);
    }

    /// <summary>via always; dev when the topology names one (or, for a delete, as the kernel has it).</summary>
    private static List<AttributeChange> RouteAttributes(RouteRequest? before, RouteRequest? after)
    {
        var attributes = new List<AttributeChange>();
        string? beforeVia = before?.Gateway?.ToString(), afterVia = after?.Gateway?.ToString();
        if (beforeVia != afterVia) attributes.Add(new("via", beforeVia, afterVia));
        bool showDev = after is null ? before?.Device is not null : after.Device is not null && before?.Device != after.Device;
        if (showDev) attributes.Add(new("dev", before?.Device, after?.Device));
        return attributes;
    }
}
