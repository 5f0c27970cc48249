using VNetCompose.Kernel;
using VNetCompose.Model;

namespace VNetCompose.Core.Desired;

/// <summary>The kinds of link a topology declares.</summary>
public enum LinkKind
{
    /// <summary>One end of a veth pair.</summary>
    Veth,
    /// <summary>A Linux bridge.</summary>
    Bridge,
    /// <summary>A tap device (layer 2).</summary>
    Tap,
    /// <summary>A tun device (layer 3).</summary>
    Tun,
}

/// <summary>A link the topology wants, with its namespace already mapped (prefix, host mapping).</summary>
/// <param name="Namespace">Its kernel namespace.</param>
/// <param name="Name">The interface name.</param>
/// <param name="Kind">Its kind.</param>
/// <param name="Mtu">MTU; null: whatever the kernel chose.</param>
/// <param name="Mac">MAC address; null: whatever the kernel chose.</param>
/// <param name="Master">Name of the bridge (same namespace) the link is enslaved to; null for none.</param>
/// <param name="Up">Whether it should be up.</param>
/// <param name="Addresses">Its addresses.</param>
/// <param name="Location">Where the topology declares it.</param>
public sealed record DesiredLink(
    NetnsId Namespace,
    string Name,
    LinkKind Kind,
    int? Mtu,
    string? Mac,
    string? Master,
    bool Up,
    IReadOnlyList<IfAddress> Addresses,
    SourceLocation Location)
{
    /// <summary>Veth only: where the other end lives.</summary>
    public NetnsId? PeerNamespace { get; init; }
    /// <summary>Veth only: the other end's name.</summary>
    public string? PeerName { get; init; }
    /// <summary>Bridge only.</summary>
    public bool Stp { get; init; }
    /// <summary>Bridge only: VLAN filtering.</summary>
    public bool VlanFiltering { get; init; }
    /// <summary>Tun/tap only.</summary>
    public int? Owner { get; init; }
    /// <summary>Tun/tap only: the gid allowed to open it.</summary>
    public int? Group { get; init; }
    /// <summary>Tun/tap only: IFF_MULTI_QUEUE.</summary>
    public bool MultiQueue { get; init; }
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
public sealed record DesiredState(
    string Instance,
    string? TopologyName,
    IReadOnlyList<DesiredNamespace> Namespaces,
    IReadOnlyList<DesiredLink> Bridges,
    IReadOnlyList<DesiredVeth> Veths,
    IReadOnlyList<DesiredLink> Taps,
    IReadOnlyList<Planning.PlanProblem> Problems)
{
    /// <summary>The ifalias of the instance's links: <c>vnet:INSTANCE</c>.</summary>
    public string LinkMarker => Ownership.LinkMarker(Instance);

    /// <summary>The name of the instance's NAT tables: <c>vnet-INSTANCE</c>.</summary>
    public string NatTableName => Ownership.NatTableName(Instance);

    /// <summary>Every desired link: bridges first (ports need them), then veth ends, then taps.</summary>
    public IEnumerable<DesiredLink> Links =>
        Bridges.Concat(Veths.SelectMany(v => new[] { v.A, v.B })).Concat(Taps);

    /// <summary>Nothing: what <c>down</c> of <paramref name="instance"/> plans towards.</summary>
    public static DesiredState Teardown(string instance) => new(instance, null, [], [], [], [], []);
}
