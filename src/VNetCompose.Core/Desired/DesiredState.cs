using VNetCompose.Core.Planning;
using VNetCompose.Kernel;
using VNetCompose.Kernel.Links;
using VNetCompose.Model;

namespace VNetCompose.Core.Desired;

/// <summary>A link the topology wants, with its namespace already mapped (prefix, host mapping).</summary>
/// <param name="Namespace">Its kernel namespace.</param>
/// <param name="Name">The interface name.</param>
/// <param name="Data">The kind's attributes; <see cref="Kind"/> is their descriptor.</param>
/// <param name="Mtu">MTU; null: whatever the kernel chose.</param>
/// <param name="Mac">MAC address; null: whatever the kernel chose.</param>
/// <param name="Master">Name of the bridge (same namespace) the link is enslaved to; null for none.</param>
/// <param name="Up">Whether it should be up.</param>
/// <param name="Addresses">Its addresses.</param>
/// <param name="Location">Where the topology declares it.</param>
public sealed record DesiredLink(
    NetnsId Namespace,
    string Name,
    LinkData Data,
    int? Mtu,
    string? Mac,
    string? Master,
    bool Up,
    IReadOnlyList<IfAddress> Addresses,
    SourceLocation Location)
{
    /// <summary>The link's kind.</summary>
    public LinkKind Kind => Data.Kind;

    /// <summary>The link it is created on (a macvlan's parent, a vxlan's dev), namespace mapped.</summary>
    public LinkPath? Parent { get; init; }

    /// <summary>Where the topology names the parent.</summary>
    public SourceLocation? ParentLocation { get; init; }

    /// <summary>Veth only: where the other end lives.</summary>
    public NetnsId? PeerNamespace { get; init; }

    /// <summary>Veth only: the other end's name.</summary>
    public string? PeerName { get; init; }

    /// <summary>The OVS bridge it is a port of (its <c>bridge:</c> names one); <see cref="Master"/> is null then.</summary>
    public DesiredOvsPort? OvsPort { get; init; }

    /// <summary>This link as a plan object.</summary>
    public LinkObject Object => new(Namespace, Name);

    /// <summary>Shaping of what the link sends (a veth end's own <c>egress:</c> or its pair's <c>impair:</c>); null for none.</summary>
    public Impairment? Egress { get; init; }

    /// <summary>Shaping of what the link receives, through the ifb <see cref="Shaping.IngressDevices"/> adds; null for none.</summary>
    public Impairment? Ingress { get; init; }
}

/// <summary>Both ends of a veth pair (created together).</summary>
public sealed record DesiredVeth(DesiredLink A, DesiredLink B, SourceLocation Location);

/// <summary>A sysctl to hold in a namespace; <paramref name="Reason"/> says why when the topology did not declare it.</summary>
public sealed record DesiredSysctl(string Key, string Value, SourceLocation? Location, string? Reason = null);

/// <summary>A route to hold in a namespace.</summary>
/// <param name="Route">The route, with the device named.</param>
/// <param name="Location">Where the topology declares it.</param>
public sealed record DesiredRoute(RouteRequest Route, SourceLocation Location);

/// <summary>A namespace the topology uses.</summary>
/// <param name="Creatable">vnet creates it when missing (then owns it); false only for the namespace vnet runs in.</param>
/// <param name="LoopbackUp">bring <c>lo</c> up (false means "leave lo as it is").</param>
/// <param name="Id">Its kernel namespace.</param>
/// <param name="DeclaredName">Its name in the topology (<c>host</c> for the mapped host).</param>
/// <param name="Sysctls">Sysctls to hold.</param>
/// <param name="Routes">Routes to hold.</param>
/// <param name="Nat">the instance's NAT table in this namespace, null when it has no NAT rule.</param>
/// <param name="Location">Where the topology declares it; null for <c>host</c>.</param>
/// <param name="NatLocation">Where its first NAT rule is declared.</param>
public sealed record DesiredNamespace(
    NetnsId Id,
    string DeclaredName,
    bool Creatable,
    bool LoopbackUp,
    IReadOnlyList<DesiredSysctl> Sysctls,
    IReadOnlyList<DesiredRoute> Routes,
    NatTableState? Nat,
    SourceLocation? Location,
    SourceLocation? NatLocation = null);

/// <summary>
/// Everything one instance of a topology wants in the kernel. Built by <see cref="DesiredStateBuilder"/>;
/// <see cref="Teardown"/> is the empty state a <c>down</c> plans towards.
/// </summary>
/// <param name="Instance">The instance: prefix + topology name.</param>
/// <param name="TopologyName">The topology's name; null for a teardown.</param>
/// <param name="Namespaces">The namespaces it uses.</param>
/// <param name="Veths">The veth pairs.</param>
/// <param name="Problems">Problems found while building it (kernel features missing, ...).</param>
/// <param name="Links">Every link but veth ends, in declaration order (bridges, taps, then <c>links:</c>).</param>
public sealed record DesiredState(
    string Instance,
    string? TopologyName,
    IReadOnlyList<DesiredNamespace> Namespaces,
    IReadOnlyList<DesiredLink> Links,
    IReadOnlyList<DesiredVeth> Veths,
    IReadOnlyList<Planning.PlanProblem> Problems)
{
    /// <summary>The ifalias every link the instance owns carries.</summary>
    public string LinkMarker => Ownership.LinkMarker(Instance);

    /// <summary>The group every link the instance creates carries from its creation on (<see cref="Ownership.LinkGroup"/>).</summary>
    public uint LinkGroup => Ownership.LinkGroup(Instance);

    /// <summary>The ifalias of <c>lo</c> in the namespaces the instance creates.</summary>
    public string NamespaceMarker => Ownership.NamespaceMarker(Instance);

    /// <summary>The instance's nftables table name.</summary>
    public string NatTableName => Ownership.NatTableName(Instance);

    /// <summary>Open vSwitch bridges (<c>ovs_bridges:</c>).</summary>
    public IReadOnlyList<DesiredOvsBridge> OvsBridges { get; init; } = [];

    /// <summary>The bridges (ports need them first).</summary>
    public IEnumerable<DesiredLink> Switches => Links.Where(l => l.Kind.IsSwitch);

    /// <summary>Every desired link: bridges first, then veth ends, then the other links.</summary>
    public IEnumerable<DesiredLink> AllLinks =>
        Switches.Concat(Veths.SelectMany(v => new[] { v.A, v.B })).Concat(Links.Where(l => !l.Kind.IsSwitch));

    /// <summary>The empty state a <c>down</c> plans towards.</summary>
    public static DesiredState Teardown(string instance) => new(instance, null, [], [], [], []);
}
