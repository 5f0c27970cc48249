namespace VNetCompose.Kernel.Links.Kinds;

/// <summary>
/// An 802.1Q or 802.1ad VLAN sub-interface (net/8021q): frames of one VLAN id of its parent. The id and the
/// protocol are fixed at creation (vlan_changelink takes neither). Encoded as iproute2 does (ip/iplink_vlan.c):
/// IFLA_VLAN_ID (u16) then IFLA_VLAN_PROTOCOL (be16 ethertype 0x8100 or 0x88a8).
/// </summary>
public sealed class VlanKind : LinkKind
{
    private const ushort IdAttribute = 1, ProtocolAttribute = 5;

    /// <summary>ETH_P_8021Q and ETH_P_8021AD (include/uapi/linux/if_ether.h).</summary>
    private static readonly (string Name, ushort Ethertype)[] Protocols = [("802.1Q", 0x8100), ("802.1ad", 0x88A8)];

    internal VlanKind() { }

    /// <inheritdoc/>
    public override string Name => "vlan";

    /// <inheritdoc/>
    public override string KernelModule => "8021q";

    /// <inheritdoc/>
    public override ParentUse Parent => ParentUse.Required;

    /// <inheritdoc/>
    public override CarrierSource Carrier => CarrierSource.Parent;

    /// <inheritdoc/>
    public override IReadOnlyList<KindKey> Keys { get; } =
    [
        new("id", KeyType.Integer(1, 4094), "VLAN id, 1 to 4094.", Required: true),
        new("protocol", KeyType.OneOf(Protocols.Select(p => p.Name).ToArray()), "802.1Q (default) or 802.1ad (QinQ)."),
    ];

    /// <inheritdoc/>
    public override LinkData Build(IReadOnlyDictionary<string, object> values) => new VlanData(
        (int)(values.GetValueOrDefault("id") as long? ?? 0), values.GetValueOrDefault("protocol") as string ?? "802.1Q");

    /// <inheritdoc/>
    public override IEnumerable<KindProblem> Check(LinkData data)
    {
        if (((VlanData)data).Id == 0) yield return new("id", "a vlan needs an id (1 to 4094)");
    }

    /// <inheritdoc/>
    public override IEnumerable<KindAttribute> Describe(LinkData data)
    {
        var vlan = (VlanData)data;
        yield return new("id", Text.Of(vlan.Id), InPlace: false);
        yield return new("protocol", vlan.Protocol, InPlace: false);
    }

    /// <inheritdoc/>
    public override int? DefaultMtu(LinkData data, int? parentMtu) => parentMtu;

    /// <inheritdoc/>
    public override void EncodeData(LinkData data, IInfoDataWriter writer, int? parentIndex)
    {
        var vlan = (VlanData)data;
        writer.U16(IdAttribute, (ushort)vlan.Id);
        writer.U16BigEndian(ProtocolAttribute, Protocols.First(p => p.Name == vlan.Protocol).Ethertype);
    }

    /// <inheritdoc/>
    public override void EncodeChange(LinkData data, IReadOnlySet<string> changed, IInfoDataWriter writer, int? parentIndex) { }

    /// <inheritdoc/>
    public override LinkData Decode(InfoData data)
    {
        ushort? ethertype = data.U16BigEndian(ProtocolAttribute);
        return new VlanData(data.U16(IdAttribute) ?? 0,
            Protocols.FirstOrDefault(p => p.Ethertype == (ethertype ?? 0x8100)).Name ?? $"0x{ethertype:x4}");
    }
}

/// <summary>A VLAN sub-interface's attributes.</summary>
public sealed record VlanData(int Id, string Protocol = "802.1Q") : LinkData
{
    /// <inheritdoc/>
    public override LinkKind Kind => LinkKinds.Vlan;
}
