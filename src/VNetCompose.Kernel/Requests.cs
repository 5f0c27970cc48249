using System.Net;
using VNetCompose.Kernel.Links;

namespace VNetCompose.Kernel;

/// <summary>A link named by its namespace and name (<c>host/eth0</c> in plans).</summary>
public sealed record LinkPath(NetnsId Namespace, string Name)
{
    /// <inheritdoc/>
    public override string ToString() => $"{Namespace}/{Name}";
}

/// <summary>A link to create. The kind is <see cref="Data"/>'s; a veth's peer end is in its <see cref="Links.Kinds.VethData"/>.</summary>
/// <param name="Name">The interface name.</param>
/// <param name="Data">The kind and its attributes.</param>
/// <param name="Parent">The link it is created on (a macvlan's parent, a vxlan's underlay), possibly in another namespace.</param>
/// <param name="Mtu">MTU; null: the kind's default.</param>
/// <param name="Mac">MAC address; null: chosen by the kernel.</param>
/// <param name="Alias">ifalias (vnet's ownership marker).</param>
/// <param name="Group">IFLA_GROUP, applied at creation.</param>
public sealed record LinkRequest(string Name, LinkData Data, LinkPath? Parent = null, int? Mtu = null, string? Mac = null,
    string? Alias = null, uint Group = 0);

/// <summary>Kind attributes to change in place (<c>ip link set NAME type KIND ...</c>): only those named.</summary>
/// <param name="Data">The kind's attributes, new values for those named.</param>
/// <param name="Attributes">The names of the attributes that change.</param>
/// <param name="Parent">The new parent, when the kind changes it in place (a vxlan's underlay).</param>
public sealed record KindChange(LinkData Data, IReadOnlyList<string> Attributes, LinkPath? Parent = null)
{
    /// <summary>Records compare their lists by reference; a change is the same when it names the same attributes.</summary>
    public bool Equals(KindChange? other) => other is not null && Data.Equals(other.Data)
        && Attributes.SequenceEqual(other.Attributes) && Equals(Parent, other.Parent);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Data, Attributes.Count, Parent);
}

/// <summary>A change to an existing link; null fields are left as they are.</summary>
/// <param name="Mtu">New MTU.</param>
/// <param name="Mac">New MAC address.</param>
/// <param name="Master">Name of the bridge to enslave to; empty string detaches (nomaster).</param>
/// <param name="Up">Set the link up or down.</param>
/// <param name="Alias">New ifalias.</param>
/// <param name="NewName">New interface name.</param>
/// <param name="Kind">Kind attributes to change in place.</param>
/// <param name="Group">New link group.</param>
/// <param name="MoveTo">Moves the link into that namespace (<c>ip link set NAME netns NS</c>), after the
/// other changes. Costs an RCU synchronisation in the kernel (~16-30 ms): create links in place instead.</param>
public sealed record LinkUpdate(
    int? Mtu = null,
    string? Mac = null,
    string? Master = null,
    bool? Up = null,
    string? Alias = null,
    string? NewName = null,
    KindChange? Kind = null,
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
