using System.Net;
using VNetCompose.Kernel.Links;
using VNetCompose.Kernel.Links.Kinds;

namespace VNetCompose.Model;

/// <summary>A validated topology file (format version 1). Immutable; built only by <see cref="TopologyLoader"/>.</summary>
public sealed record Topology(
    int Version,
    string Name,
    string SourcePath,
    IReadOnlyList<NamespaceSpec> Namespaces,
    IReadOnlyList<LinkSpec> Links,
    IReadOnlyList<VethSpec> Veths,
    IReadOnlyList<NatRule> Nat)
{
    /// <summary>The reserved namespace name meaning "the namespace vnet runs in" (or the one given by --host-netns).</summary>
    public const string HostNamespace = "host";

    /// <summary>Open vSwitch bridges (<c>ovs_bridges:</c>).</summary>
    public IReadOnlyList<OvsBridgeSpec> OvsBridges { get; init; } = [];

    /// <summary>The links declared as bridges (under <c>bridges:</c> or <c>links:</c>).</summary>
    public IEnumerable<LinkSpec> Bridges => Links.Where(l => l.Kind == LinkKinds.Bridge);

    /// <summary>The tun and tap devices (under <c>taps:</c> or <c>links:</c>).</summary>
    public IEnumerable<LinkSpec> Taps => Links.Where(l => l.Data is TunData);
}

/// <summary>Where a value came from in the YAML file, for diagnostics raised after loading (plan, apply).</summary>
public sealed record SourceLocation(string File, int Line, int Column, string KeyPath)
{
    /// <summary><c>file:line:column (key.path)</c>.</summary>
    public override string ToString() => $"{File}:{Line}:{Column} ({KeyPath})";
}

/// <summary>An interface address: a host address with its prefix length, e.g. 172.17.0.2/16.</summary>
public readonly record struct IfAddress(IPAddress Address, int PrefixLength)
{
    /// <summary>CIDR notation: <c>172.17.0.2/16</c>.</summary>
    public override string ToString() => $"{Address}/{PrefixLength}";
}

/// <summary>A named network namespace declared under <c>namespaces:</c>.</summary>
public sealed record NamespaceSpec(
    string Name,
    bool Loopback,
    IReadOnlyList<SysctlSpec> Sysctls,
    IReadOnlyList<RouteSpec> Routes,
    SourceLocation Location);

/// <summary>A sysctl under /proc/sys/ written inside a namespace; key in dotted form (net.ipv4.ip_forward).</summary>
public sealed record SysctlSpec(string Key, string Value, SourceLocation Location);

/// <summary>A route in the main table. <see cref="To"/> is 0.0.0.0/0 or ::/0 for "default".</summary>
public sealed record RouteSpec(IPNetwork To, IPAddress? Via, string? Dev, int? Metric, SourceLocation Location)
{
    /// <summary>The default route (prefix length 0).</summary>
    public bool IsDefault => To.PrefixLength == 0;

    /// <summary>As iproute2 writes it: <c>default via 172.17.0.1 dev eth0 metric 100</c>.</summary>
    public override string ToString() =>
        (IsDefault ? "default" : To.ToString())
        + (Via is null ? "" : $" via {Via}")
        + (Dev is null ? "" : $" dev {Dev}")
        + (Metric is null ? "" : $" metric {Metric}");
}

/// <summary>
/// A link other than a veth end: a bridge (<c>bridges:</c>), a tun/tap (<c>taps:</c>) or any <c>links:</c> entry.
/// Its kind's own attributes are in <see cref="Data"/> (<see cref="BridgeData"/>, <see cref="TunData"/>,
/// ...), read and checked by the kind's descriptor.
/// </summary>
/// <param name="Name">The interface name.</param>
/// <param name="Kind">Its kind's descriptor.</param>
/// <param name="Namespace">Its topology namespace (default <c>host</c>).</param>
/// <param name="Addresses">Its addresses.</param>
/// <param name="Mtu">MTU; null: the kind's default.</param>
/// <param name="Mac">MAC address; null: chosen by the kernel.</param>
/// <param name="Bridge">The bridge (same namespace) it is a port of.</param>
/// <param name="Up">Whether it is set up (default true).</param>
/// <param name="Data">The kind's own attributes.</param>
/// <param name="Location">Where the topology declares it.</param>
/// <param name="Parent">The link it is created on, when its kind has one (a macvlan's parent, a vxlan's dev).</param>
public sealed record LinkSpec(
    string Name,
    LinkKind Kind,
    string Namespace,
    IReadOnlyList<IfAddress> Addresses,
    int? Mtu,
    string? Mac,
    string? Bridge,
    bool Up,
    LinkParentSpec? Parent,
    LinkData Data,
    SourceLocation Location)
{
    /// <summary>Shaping of what the link sends (<c>egress:</c>); null for none.</summary>
    public Impairment? Egress { get; init; }

    /// <summary>Shaping of what the link receives (<c>ingress:</c>, through an ifb vnet makes); null for none.</summary>
    public Impairment? Ingress { get; init; }

    /// <summary>VLAN settings when <see cref="Bridge"/> is an OVS bridge; null for a Linux bridge port or none.</summary>
    public OvsPortSpec? OvsPort { get; init; }
}

/// <summary>A link's parent in the topology's words: <c>eth0</c> (its own namespace) or <c>host/eth0</c>.</summary>
/// <param name="Namespace">A topology namespace name (<c>host</c> or a declared one).</param>
/// <param name="Name">The parent's interface name.</param>
/// <param name="Location">Where the topology names it.</param>
public sealed record LinkParentSpec(string Namespace, string Name, SourceLocation Location)
{
    /// <inheritdoc/>
    public override string ToString() => $"{Namespace}/{Name}";
}

/// <summary>A veth pair; both ends are created together.</summary>
public sealed record VethSpec(VethEnd A, VethEnd B, SourceLocation Location)
{
    /// <summary>Impairment of both directions (<c>impair:</c>): each end's egress. An end with <c>egress:</c> of its own
    /// is refused by the loader, so the two never mix.</summary>
    public Impairment? Impair { get; init; }
}

/// <summary>One end of a veth pair.</summary>
public sealed record VethEnd(
    string Namespace,
    string Name,
    IReadOnlyList<IfAddress> Addresses,
    int? Mtu,
    string? Mac,
    string? Bridge,
    bool Up,
    SourceLocation Location)
{
    /// <summary>Shaping of what this end sends (<c>egress:</c>); null for none (the pair's <c>impair:</c> may still apply).</summary>
    public Impairment? Egress { get; init; }

    /// <summary>Shaping of what this end receives (<c>ingress:</c>); null for none.</summary>
    public Impairment? Ingress { get; init; }

    /// <summary>VLAN settings when <see cref="Bridge"/> is an OVS bridge; null for a Linux bridge port or none.</summary>
    public OvsPortSpec? OvsPort { get; init; }
}

/// <summary>An interface name match in a NAT rule; <c>"!docker0"</c> is <c>Negated</c>.</summary>
public sealed record InterfaceMatch(string Name, bool Negated)
{
    /// <summary>The name, with <c>!</c> in front when negated.</summary>
    public override string ToString() => Negated ? "!" + Name : Name;
}

/// <summary>The transport protocol of a port forward.</summary>
public enum NatProtocol
{
    /// <summary>TCP.</summary>
    Tcp,
    /// <summary>UDP.</summary>
    Udp,
}

/// <summary>A NAT rule; every rule of a topology in one namespace lives in one nftables table owned by the topology.</summary>
public abstract record NatRule(string Namespace, SourceLocation Location);

/// <summary>Rewrite the source of matching packets to the address of the outgoing interface.</summary>
public sealed record MasqueradeRule(
    string Namespace, IPNetwork? Source, IPNetwork? Destination, InterfaceMatch? Out, SourceLocation Location)
    : NatRule(Namespace, Location);

/// <summary>Rewrite the source of matching packets to a fixed address.</summary>
public sealed record SnatRule(
    string Namespace, IPNetwork? Source, IPNetwork? Destination, IPAddress To, InterfaceMatch? Out, SourceLocation Location)
    : NatRule(Namespace, Location);

/// <summary>Rewrite the destination of packets to <c>port</c> (DNAT) to <c>to</c> (address[:port]).</summary>
public sealed record PortForwardRule(
    string Namespace,
    NatProtocol Protocol,
    int Port,
    IPAddress ToAddress,
    int? ToPort,
    InterfaceMatch? In,
    IPNetwork? Destination,
    SourceLocation Location)
    : NatRule(Namespace, Location);
