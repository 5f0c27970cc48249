using System.Net;
using System.Net.Sockets;

namespace VNetCompose.Kernel;

/// <summary>Everything observed in one namespace by one dump per object class.</summary>
public sealed record NamespaceSnapshot(
    NetnsId Namespace,
    IReadOnlyList<LinkState> Links,
    IReadOnlyList<AddressState> Addresses,
    IReadOnlyList<RouteState> Routes)
{
    public LinkState? FindLink(string name) => Links.FirstOrDefault(l => l.Name == name);
    public LinkState? FindLink(int index) => Links.FirstOrDefault(l => l.Index == index);
}

/// <summary>A link as the kernel reports it (RTM_NEWLINK).</summary>
/// <param name="Kind">IFLA_INFO_KIND: "veth", "bridge", "tun", ...; empty for links without one (lo, physical).</param>
/// <param name="MasterIndex">ifindex of the master (bridge), 0 for none.</param>
/// <param name="AdminUp">IFF_UP.</param>
/// <param name="OperState">"UP", "DOWN", "UNKNOWN", "LOWERLAYERDOWN", ... as iproute2 prints it.</param>
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
    VethPeer? Veth,
    BridgeAttributes? Bridge,
    TunAttributes? Tun);

/// <summary>The other end of a veth. <see cref="PeerNamespace"/> is null when the peer lives in a
/// namespace outside the observed set.</summary>
public sealed record VethPeer(int PeerIndex, NetnsId? PeerNamespace);

public sealed record BridgeAttributes(bool Stp, bool VlanFiltering);

public enum TunMode { Tun, Tap }

/// <summary>tun/tap attributes (IFLA_TUN_*). Owner/Group are null when unset (-1 in the kernel).</summary>
public sealed record TunAttributes(TunMode Mode, int? Owner, int? Group, bool MultiQueue, bool Persist, bool VnetHdr);

public sealed record AddressState(int LinkIndex, IPAddress Address, int PrefixLength)
{
    public AddressFamily Family => Address.AddressFamily;
}

/// <summary>A route of the main table. Destination/PrefixLength 0.0.0.0/0 or ::/0 is the default route.</summary>
/// <param name="Protocol">rtm_protocol; <see cref="RouteProtocols.VNet"/> marks routes vnet created.</param>
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
    public AddressFamily Family => Destination.AddressFamily;
}

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
