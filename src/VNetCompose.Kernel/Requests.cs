using System.Net;

namespace VNetCompose.Kernel;

/// <summary>One end of a veth pair to create. Each end is created directly in its namespace.</summary>
public sealed record VethEndRequest(NetnsId Namespace, string Name, int? Mtu = null, string? Mac = null, string? Alias = null, uint Group = 0);

/// <summary>A bridge to create.</summary>
/// <param name="Name">The interface name.</param>
/// <param name="Mtu">MTU; null: the kernel's default.</param>
/// <param name="Mac">MAC address; null: chosen by the kernel.</param>
/// <param name="Alias">ifalias (ownership marker).</param>
/// <param name="Stp">Spanning tree on.</param>
/// <param name="VlanFiltering">VLAN filtering on (not every kernel has it).</param>
/// <param name="Group">Link group (for bulk deletion).</param>
public sealed record BridgeRequest(string Name, int? Mtu = null, string? Mac = null, string? Alias = null, bool Stp = false, bool VlanFiltering = false, uint Group = 0);

/// <summary>A persistent tun or tap device to create.</summary>
/// <param name="Name">The interface name.</param>
/// <param name="Mode">tun or tap.</param>
/// <param name="Owner">Uid allowed to open it; null: root only.</param>
/// <param name="Group">Gid allowed to open it; null: none.</param>
/// <param name="MultiQueue">IFF_MULTI_QUEUE.</param>
/// <param name="Mtu">MTU; null: the kernel's default.</param>
/// <param name="Mac">MAC address (tap); null: chosen by the kernel.</param>
/// <param name="Alias">ifalias (ownership marker).</param>
/// <param name="LinkGroup">Link group (for bulk deletion).</param>
public sealed record TuntapRequest(string Name, TunMode Mode, int? Owner = null, int? Group = null, bool MultiQueue = false, int? Mtu = null, string? Mac = null, string? Alias = null, uint LinkGroup = 0);

/// <summary>A change to an existing link; null fields are left as they are.</summary>
/// <param name="Master">Name of the bridge to enslave to; empty string detaches (nomaster).</param>
/// <param name="MoveTo">Moves the link into that namespace (<c>ip link set NAME netns NS</c>), after the
/// other changes. Costs an RCU synchronisation in the kernel (~16-30 ms): create links in place instead.</param>
/// <param name="Mtu">New MTU.</param>
/// <param name="Mac">New MAC address.</param>
/// <param name="Up">Set the link up or down.</param>
/// <param name="Alias">New ifalias.</param>
/// <param name="NewName">New interface name.</param>
/// <param name="Stp">Bridge spanning tree on or off.</param>
/// <param name="Group">New link group.</param>
public sealed record LinkUpdate(
    int? Mtu = null,
    string? Mac = null,
    string? Master = null,
    bool? Up = null,
    string? Alias = null,
    string? NewName = null,
    bool? Stp = null,
    uint? Group = null,
    NetnsId? MoveTo = null)
{
    /// <summary>Nothing would change.</summary>
    public bool IsEmpty => this == new LinkUpdate();
}

/// <summary>A route of the main table. <see cref="Destination"/>/<see cref="PrefixLength"/> 0 is the default route.</summary>
public sealed record RouteRequest(
    IPAddress Destination,
    int PrefixLength,
    IPAddress? Gateway = null,
    string? Device = null,
    int? Metric = null,
    byte Protocol = RouteProtocols.VNet);
