using System.Net;

namespace VNetCompose.Model;

/// <summary>A validated topology file (format version 1). Immutable; built only by <see cref="TopologyLoader"/>.</summary>
public sealed record Topology(
    int Version,
    string Name,
    string SourcePath,
    IReadOnlyList<NamespaceSpec> Namespaces,
    IReadOnlyList<BridgeSpec> Bridges,
    IReadOnlyList<VethSpec> Veths,
    IReadOnlyList<TapSpec> Taps,
    IReadOnlyList<NatRule> Nat)
{
    /// <summary>The reserved namespace name meaning "the namespace vnet runs in" (or the one given by --host-netns).</summary>
    public const string HostNamespace = "host";
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

/// <summary>A Linux bridge.</summary>
public sealed record BridgeSpec(
    string Name,
    string Namespace,
    IReadOnlyList<IfAddress> Addresses,
    int? Mtu,
    string? Mac,
    bool Stp,
    bool VlanFiltering,
    bool Up,
    SourceLocation Location);

/// <summary>A veth pair; both ends are created together.</summary>
public sealed record VethSpec(VethEnd A, VethEnd B, SourceLocation Location);

/// <summary>One end of a veth pair.</summary>
public sealed record VethEnd(
    string Namespace,
    string Name,
    IReadOnlyList<IfAddress> Addresses,
    int? Mtu,
    string? Mac,
    string? Bridge,
    bool Up,
    SourceLocation Location);

/// <summary>The kind of a device under <c>taps:</c>.</summary>
public enum TapMode
{
    /// <summary>A tap: Ethernet frames (layer 2).</summary>
    Tap,
    /// <summary>A tun: IP packets (layer 3).</summary>
    Tun,
}

/// <summary>A persistent tun or tap device.</summary>
public sealed record TapSpec(
    string Name,
    TapMode Mode,
    string Namespace,
    IReadOnlyList<IfAddress> Addresses,
    int? Mtu,
    string? Mac,
    string? Bridge,
    bool Up,
    int? Owner,
    int? Group,
    bool MultiQueue,
    SourceLocation Location);

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
