using VNetCompose.Kernel;
using VNetCompose.Model;

namespace VNetCompose.Core.Desired;

public enum LinkKind { Veth, Bridge, Tap, Tun }

/// <summary>A link the topology wants, with its namespace already mapped (prefix, host mapping).</summary>
/// <param name="Master">Name of the bridge (same namespace) the link is enslaved to; null for none.</param>
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
    public string? PeerName { get; init; }
    /// <summary>Bridge only.</summary>
    public bool Stp { get; init; }
    public bool VlanFiltering { get; init; }
    /// <summary>Tun/tap only.</summary>
    public int? Owner { get; init; }
    public int? Group { get; init; }
    public bool MultiQueue { get; init; }
}

/// <summary>Both ends of a veth pair (created together).</summary>
public sealed record DesiredVeth(DesiredLink A, DesiredLink B, SourceLocation Location);

/// <summary>A sysctl to hold in a namespace; <paramref name="Reason"/> says why when the topology did not declare it.</summary>
public sealed record DesiredSysctl(string Key, string Value, SourceLocation? Location, string? Reason = null);

public sealed record DesiredRoute(RouteRequest Route, SourceLocation Location);

/// <summary>A namespace the topology uses.</summary>
/// <param name="Creatable">vnet creates it when missing (then owns it); false only for the namespace vnet runs in.</param>
/// <param name="LoopbackUp">bring <c>lo</c> up (false means "leave lo as it is").</param>
/// <param name="Nat">the instance's NAT table in this namespace, null when it has no NAT rule.</param>
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
    public string LinkMarker => Ownership.LinkMarker(Instance);
    public string NatTableName => Ownership.NatTableName(Instance);

    /// <summary>Every desired link: bridges first (ports need them), then veth ends, then taps.</summary>
    public IEnumerable<DesiredLink> Links =>
        Bridges.Concat(Veths.SelectMany(v => new[] { v.A, v.B })).Concat(Taps);

    public static DesiredState Teardown(string instance) => new(instance, null, [], [], [], [], []);
}
