using VNetCompose.Core.Planning;
using VNetCompose.Kernel;
using VNetCompose.Model;
using VNetCompose.Kernel.Links.Kinds;

namespace VNetCompose.Core.Desired;

/// <summary>Resolves a validated <see cref="Topology"/> and <see cref="LabOptions"/> into a <see cref="DesiredState"/>.</summary>
public static class DesiredStateBuilder
{
    /// <summary>The sysctl a namespace with IPv4 NAT rules needs set to 1.</summary>
    public const string IPv4Forwarding = "net.ipv4.ip_forward";
    /// <summary>The sysctl a namespace with IPv6 NAT rules needs set to 1.</summary>
    public const string IPv6Forwarding = "net.ipv6.conf.all.forwarding";

    /// <summary>What <paramref name="topology"/> placed by <paramref name="options"/> wants in the kernel; problems found on the way are in <see cref="DesiredState.Problems"/>.</summary>
    public static DesiredState Build(Topology topology, LabOptions options)
    {
        ArgumentNullException.ThrowIfNull(topology);
        ArgumentNullException.ThrowIfNull(options);
        string instance = options.InstanceName(topology.Name);
        var problems = new List<PlanProblem>();

        var links = topology.Links.Select(l => new DesiredLink(options.MapNamespace(l.Namespace), l.Name, l.Data, l.Mtu, l.Mac, l.Bridge,
            l.Up, l.Addresses, l.Location)
        {
            Parent = l.Parent is { } parent ? new LinkPath(options.MapNamespace(parent.Namespace), parent.Name) : null,
            ParentLocation = l.Parent?.Location,
            Egress = l.Egress,
            Ingress = l.Ingress,
        }).Select((link, i) => DesiredOvs.Join(link, topology.Links[i].Namespace, topology.Links[i].Bridge, topology.Links[i].OvsPort, topology))
        .ToList();

        var veths = topology.Veths.Select(v =>
        {
            var a = DesiredOvs.Join(End(v.A, v.B, options) with { Egress = v.A.Egress ?? v.Impair }, v.A.Namespace, v.A.Bridge, v.A.OvsPort, topology);
            var b = DesiredOvs.Join(End(v.B, v.A, options) with { Egress = v.B.Egress ?? v.Impair }, v.B.Namespace, v.B.Bridge, v.B.OvsPort, topology);
            return new DesiredVeth(a, b, v.Location);
        }).ToList();
        links.AddRange(Shaping.IngressDevices.For([.. links, .. veths.SelectMany(v => new[] { v.A, v.B })]));

        var namespaces = new List<DesiredNamespace> { Host(topology, options, instance) };
        namespaces.AddRange(topology.Namespaces.Select(n => Declared(n, topology, options, instance)));
        return new DesiredState(instance, topology.Name, namespaces, links, veths, problems)
        {
            OvsBridges = DesiredOvs.Bridges(topology, options),
        };
    }

    private static DesiredLink End(VethEnd end, VethEnd other, LabOptions options) =>
        new(options.MapNamespace(end.Namespace), end.Name, new VethData(), end.Mtu, end.Mac, end.Bridge, end.Up,
            end.Addresses, end.Location)
        {
            PeerNamespace = options.MapNamespace(other.Namespace),
            PeerName = other.Name,
            Ingress = end.Ingress,
        };

    /// <summary>
    /// The namespace <c>host</c> maps to. Unmapped it is the namespace vnet runs in: never created,
    /// its <c>lo</c> left alone. Mapped (--host-netns) it is a sandbox: created when missing, lo up.
    /// </summary>
    private static DesiredNamespace Host(Topology topology, LabOptions options, string instance)
    {
        var id = options.MapNamespace(Topology.HostNamespace);
        var nat = NatRules(topology, Topology.HostNamespace);
        return new DesiredNamespace(id, Topology.HostNamespace, Creatable: !id.IsCurrent, LoopbackUp: !id.IsCurrent,
            ImpliedSysctls([], nat), [], NatTable(nat, instance), null, nat.FirstOrDefault()?.Location);
    }

    private static DesiredNamespace Declared(NamespaceSpec spec, Topology topology, LabOptions options, string instance)
    {
        var nat = NatRules(topology, spec.Name);
        var declared = spec.Sysctls.Select(s => new DesiredSysctl(s.Key, s.Value, s.Location)).ToList();
        var routes = spec.Routes.Select(r => new DesiredRoute(
            new RouteRequest(r.To.BaseAddress, r.To.PrefixLength, r.Via, r.Dev, r.Metric), r.Location)).ToList();
        return new DesiredNamespace(options.MapNamespace(spec.Name), spec.Name, Creatable: true, spec.Loopback,
            ImpliedSysctls(declared, nat), routes, NatTable(nat, instance), spec.Location, nat.FirstOrDefault()?.Location);
    }

    private static List<NatRule> NatRules(Topology topology, string ns) => topology.Nat.Where(r => r.Namespace == ns).ToList();

    private static NatTableState? NatTable(List<NatRule> rules, string instance) =>
        rules.Count == 0 ? null
            : new NatTableState(Ownership.NatTableName(instance), NatTranslation.Canonical(rules.SelectMany(NatTranslation.Translate)));

    /// <summary>
    /// NAT translates packets the namespace forwards: IPv4 forwarding for rules that handle IPv4 (those
    /// naming no address handle both families), IPv6 forwarding for rules naming IPv6 addresses. Added
    /// unless the topology sets the key itself; <c>down</c> restores the value vnet found.
    /// </summary>
    private static List<DesiredSysctl> ImpliedSysctls(List<DesiredSysctl> declared, List<NatRule> nat)
    {
        var result = new List<DesiredSysctl>(declared);
        var v4 = nat.FirstOrDefault(r => !NatTranslation.IsIPv6(r));
        if (v4 is not null && !declared.Any(s => s.Key == IPv4Forwarding))
            result.Add(new DesiredSysctl(IPv4Forwarding, "1", v4.Location, "needed by nat rules"));
        var v6 = nat.FirstOrDefault(NatTranslation.IsIPv6);
        if (v6 is not null && !declared.Any(s => s.Key == IPv6Forwarding))
            result.Add(new DesiredSysctl(IPv6Forwarding, "1", v6.Location, "needed by IPv6 nat rules"));
        return result;
    }
}
