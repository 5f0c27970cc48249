using System.Net;
using System.Net.Sockets;
using VNetCompose.Kernel.Links;

namespace VNetCompose.Kernel;

/// <summary>Everything observed in one namespace by one dump per object class.</summary>
public sealed record NamespaceSnapshot(
    NetnsId Namespace,
    IReadOnlyList<LinkState> Links,
    IReadOnlyList<AddressState> Addresses,
    IReadOnlyList<RouteState> Routes)
{
    /// <summary>The link named <paramref name="name"/>, or null.</summary>
    public LinkState? FindLink(string name) => Links.FirstOrDefault(l => l.Name == name);
    /// <summary>The link with ifindex <paramref name="index"/>, or null.</summary>
    public LinkState? FindLink(int index) => Links.FirstOrDefault(l => l.Index == index);
}

/// <summary>A link as the kernel reports it (RTM_NEWLINK).</summary>
/// <param name="Kind">IFLA_INFO_KIND: "veth", "bridge", "tun", ...; empty for links without one (lo, physical).</param>
/// <param name="MasterIndex">ifindex of the master (bridge), 0 for none.</param>
/// <param name="AdminUp">IFF_UP.</param>
/// <param name="OperState">"UP", "DOWN", "UNKNOWN", "LOWERLAYERDOWN", ... as iproute2 prints it.</param>
/// <param name="IfLink">IFLA_LINK: a veth's peer, a macvlan's parent; null when the link names none.</param>
/// <param name="Data">The kind's attributes decoded by its descriptor (<see cref="Links.LinkKinds"/>); null for a
/// kind vnet does not know.</param>
/// <param name="Index">The ifindex.</param>
/// <param name="Name">The interface name.</param>
/// <param name="Mtu">IFLA_MTU.</param>
/// <param name="Mac">IFLA_ADDRESS as <c>aa:bb:...</c>; null when it has none.</param>
/// <param name="Alias">IFLA_IFALIAS (vnet's ownership marker <c>vnet:INSTANCE</c>); null when unset.</param>
/// <param name="Group">IFLA_GROUP.</param>
public sealed record LinkState(
    int Index,
    string Name,
    string Kind,
    int Mtu,
    string? Mac,
    int MasterIndex,
    bool AdminUp,
    string OperState,
    string? Alias,
    uint Group,
    IfLink? IfLink,
    LinkData? Data)
{
    /// <summary>The other end of a veth (null for other kinds). Its namespace is null when it lives in a
    /// namespace outside the observed set.</summary>
    public IfLink? Peer => Kind == "veth" ? IfLink : null;

    /// <summary>IFLA_QDISC: the kind of the root qdisc (<c>noqueue</c>, <c>pfifo_fast</c>, <c>tbf</c>); null when not
    /// reported. Tells, without a qdisc dump, which namespaces may hold a qdisc of vnet's.</summary>
    public string? RootQdisc { get; init; }
}

/// <summary>tun or tap.</summary>
public enum TunMode
{
    /// <summary>IP packets (IFF_TUN).</summary>
    Tun,
    /// <summary>Ethernet frames (IFF_TAP).</summary>
    Tap,
}

/// <summary>An address of a link (RTM_NEWADDR).</summary>
/// <param name="LinkIndex">The ifindex of its link.</param>
/// <param name="Address">The address.</param>
/// <param name="PrefixLength">Its prefix length.</param>
public sealed record AddressState(int LinkIndex, IPAddress Address, int PrefixLength)
{
    /// <summary>IPv4 or IPv6.</summary>
    public AddressFamily Family => Address.AddressFamily;
}

/// <summary>A route of the main table. Destination/PrefixLength 0.0.0.0/0 or ::/0 is the default route.</summary>
/// <param name="Protocol">rtm_protocol; <see cref="RouteProtocols.VNet"/> marks routes vnet created.</param>
/// <param name="Destination">The destination prefix's address.</param>
/// <param name="PrefixLength">Its length.</param>
/// <param name="Gateway">RTA_GATEWAY; null for a direct route.</param>
/// <param name="OutputIndex">RTA_OIF; 0 when none.</param>
/// <param name="Metric">RTA_PRIORITY; null when unset.</param>
/// <param name="Scope">rtm_scope.</param>
/// <param name="Type">rtm_type (RTN_UNICAST, ...).</param>
public sealed record RouteState(
    IPAddress Destination,
    int PrefixLength,
    IPAddress? Gateway,
    int OutputIndex,
    int? Metric,
    byte Protocol,
    byte Scope,
    byte Type)
{
    /// <summary>IPv4 or IPv6.</summary>
    public AddressFamily Family => Destination.AddressFamily;
}

/// <summary>rtm_protocol values (include/uapi/linux/rtnetlink.h), and the one vnet marks its routes with.</summary>
public static class RouteProtocols
{
    /// <summary>RTPROT_KERNEL: routes the kernel adds for connected prefixes.</summary>
    public const byte Kernel = 2;
    /// <summary>RTPROT_BOOT.</summary>
    public const byte Boot = 3;
    /// <summary>RTPROT_STATIC: what iproute2 uses for user routes by default.</summary>
    public const byte Static = 4;
    /// <summary>
    /// The protocol number vnet stamps on the routes it creates (ownership marker). Values above
    /// RTPROT_STATIC not defined in include/uapi/linux/rtnetlink.h are free for routing daemons; 0x56 is 'V'.
    /// </summary>
    public const byte VNet = 0x56;
}
