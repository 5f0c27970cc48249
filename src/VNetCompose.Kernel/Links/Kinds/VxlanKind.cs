using System.Net;
using System.Net.Sockets;

namespace VNetCompose.Kernel.Links.Kinds;

/// <summary>
/// vxlan (drivers/net/vxlan): Ethernet over UDP to a <c>remote</c> endpoint or a multicast <c>group</c>, with an
/// optional underlay <c>dev</c> in the same namespace. The kernel refuses to change the VNI and the port in place
/// ("Cannot change VNI", "Cannot change port"); remote, group, local, dev, learning and ttl change in place
/// (all tried on this kernel). The port defaults to 4789 (IANA), not the kernel's historical 8472.
/// IFLA_VXLAN_* from include/uapi/linux/if_link.h.
/// </summary>
public sealed class VxlanKind : LinkKind
{
    private const ushort Id = 1, Group = 2, Link = 3, Local = 4, Ttl = 5, Learning = 7, Port = 15, Group6 = 16, Local6 = 17;

    /// <summary>VXLAN_HEADROOM and VXLAN6_HEADROOM (include/net/vxlan.h): outer IP + UDP + VXLAN + Ethernet headers.</summary>
    private const int Headroom4 = 50, Headroom6 = 70;

    /// <summary>The IANA port for VXLAN (RFC 7348).</summary>
    public const int DefaultPort = 4789;

    internal VxlanKind() { }

    /// <inheritdoc/>
    public override string Name => "vxlan";

    /// <inheritdoc/>
    public override ParentUse Parent => ParentUse.Optional;

    /// <inheritdoc/>
    public override string ParentKey => "dev";

    /// <inheritdoc/>
    public override bool ParentChangesInPlace => true;

    /// <inheritdoc/>
    public override bool FollowsParentMtu => false;

    /// <inheritdoc/>
    public override IReadOnlyList<KindKey> Keys { get; } =
    [
        new("vni", KeyType.Integer(1, 16777215), "VXLAN network identifier, 1 to 16777215.", Required: true),
        new("remote", KeyType.Address, "Unicast address of the other tunnel end (or give group)."),
        new("group", KeyType.Address, "Multicast group the tunnel floods to (or give remote)."),
        new("local", KeyType.Address, "Source address of the tunnel's packets."),
        new("port", KeyType.Integer(1, 65535), "UDP destination port; default 4789."),
        new("learning", KeyType.Boolean, "Learn remote MAC addresses from received packets; default true."),
        new("ttl", KeyType.Integer(0, 255), "TTL of the outer packets; default 0 (inherit)."),
    ];

    /// <inheritdoc/>
    public override LinkData Build(IReadOnlyDictionary<string, object> values) => new VxlanData(
        (uint)(values.GetValueOrDefault("vni") as long? ?? 0),
        values.GetValueOrDefault("remote") as IPAddress,
        values.GetValueOrDefault("group") as IPAddress,
        values.GetValueOrDefault("local") as IPAddress,
        (int)(values.GetValueOrDefault("port") as long? ?? DefaultPort),
        values.GetValueOrDefault("learning") as bool? ?? true,
        (int)(values.GetValueOrDefault("ttl") as long? ?? 0));

    /// <inheritdoc/>
    public override IEnumerable<KindProblem> Check(LinkData data)
    {
        var vxlan = (VxlanData)data;
        if (vxlan.Vni == 0) yield return new("vni", "a vxlan needs a vni");
        if (vxlan.Remote is not null && vxlan.Group is not null)
            yield return new("group", "give either remote (one other end) or group (multicast), not both");
        if (vxlan.Remote is { } remote && IsMulticast(remote))
            yield return new("remote", $"{remote} is a multicast address; use group: for multicast");
        if (vxlan.Group is { } group && !IsMulticast(group))
            yield return new("group", $"{group} is not a multicast address; use remote: for one other end");
        var far = vxlan.Remote ?? vxlan.Group;
        if (vxlan.Local is { } local && far is not null && local.AddressFamily != far.AddressFamily)
            yield return new("local", $"local {local} and {(vxlan.Remote is null ? "group" : "remote")} {far} are of different address families");
    }

    /// <inheritdoc/>
    public override IEnumerable<KindAttribute> Describe(LinkData data)
    {
        var vxlan = (VxlanData)data;
        yield return new("vni", Text.Of(vxlan.Vni), InPlace: false);
        yield return new("remote", vxlan.Remote?.ToString(), InPlace: true);
        yield return new("group", vxlan.Group?.ToString(), InPlace: true);
        yield return new("local", vxlan.Local?.ToString(), InPlace: true);
        yield return new("port", Text.Of(vxlan.Port), InPlace: false);
        yield return new("learning", Text.Of(vxlan.Learning), InPlace: true);
        yield return new("ttl", Text.Of(vxlan.Ttl), InPlace: true);
    }

    /// <inheritdoc/>
    public override int? DefaultMtu(LinkData data, int? parentMtu) =>
        (parentMtu ?? EthernetMtu) - (((VxlanData)data).IsIPv6 ? Headroom6 : Headroom4);

    /// <inheritdoc/>
    public override void EncodeData(LinkData data, IInfoDataWriter writer, int? parentIndex) =>
        Encode((VxlanData)data, writer, parentIndex, _ => true);

    /// <inheritdoc/>
    public override void EncodeChange(LinkData data, IReadOnlySet<string> changed, IInfoDataWriter writer, int? parentIndex) =>
        Encode((VxlanData)data, writer, parentIndex, changed.Contains);

    private static void Encode(VxlanData vxlan, IInfoDataWriter writer, int? parentIndex, Func<string, bool> include)
    {
        if (include("vni")) writer.U32(Id, vxlan.Vni);
        if ((include("remote") || include("group")) && (vxlan.Remote ?? vxlan.Group) is { } far)
            writer.Address(far.AddressFamily == AddressFamily.InterNetworkV6 ? Group6 : Group, far);
        if (include("local") && vxlan.Local is { } local)
            writer.Address(local.AddressFamily == AddressFamily.InterNetworkV6 ? Local6 : Local, local);
        if (include("dev") && parentIndex is { } dev) writer.U32(Link, (uint)dev);
        if (include("ttl")) writer.U8(Ttl, (byte)vxlan.Ttl);
        if (include("learning")) writer.U8(Learning, vxlan.Learning ? (byte)1 : (byte)0);
        if (include("port")) writer.U16BigEndian(Port, (ushort)vxlan.Port);
    }

    /// <inheritdoc/>
    public override LinkData Decode(InfoData data)
    {
        var far = data.Address(Group, 4) ?? data.Address(Group6, 16);
        bool multicast = far is not null && IsMulticast(far);
        return new VxlanData(
            data.U32(Id) ?? 0,
            multicast ? null : far,
            multicast ? far : null,
            data.Address(Local, 4) ?? data.Address(Local6, 16),
            data.U16BigEndian(Port) ?? 0,
            data.U8(Learning) is > 0,
            data.U8(Ttl) ?? 0,
            data.U32(Link) is { } dev and > 0 ? (int)dev : null);
    }

    /// <inheritdoc/>
    public override LinkData Observed(LinkData data, int? parentIndex) => ((VxlanData)data) with { DevIndex = parentIndex };

    /// <inheritdoc/>
    public override int? ObservedParentIndex(LinkState link) => (link.Data as VxlanData)?.DevIndex;

    private static bool IsMulticast(IPAddress address) => address.AddressFamily == AddressFamily.InterNetworkV6
        ? address.IsIPv6Multicast
        : (address.GetAddressBytes()[0] & 0xF0) == 0xE0;
}

/// <summary>A vxlan's attributes. <see cref="DevIndex"/> is the observed underlay (IFLA_VXLAN_LINK), not compared:
/// the underlay is the link's parent.</summary>
public sealed record VxlanData(uint Vni, IPAddress? Remote = null, IPAddress? Group = null, IPAddress? Local = null,
    int Port = VxlanKind.DefaultPort, bool Learning = true, int Ttl = 0, int? DevIndex = null) : LinkData
{
    /// <inheritdoc/>
    public override LinkKind Kind => LinkKinds.Vxlan;

    /// <summary>The tunnel runs over IPv6.</summary>
    public bool IsIPv6 => (Remote ?? Group ?? Local)?.AddressFamily == AddressFamily.InterNetworkV6;
}
