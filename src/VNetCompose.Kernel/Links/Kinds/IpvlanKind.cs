namespace VNetCompose.Kernel.Links.Kinds;

/// <summary>
/// ipvlan (drivers/net/ipvlan): links sharing their parent's MAC address, switching by IP address. The mode
/// changes in place (ipvlan_nl_changelink); the parent cannot. Encoded as iproute2 does (ip/iplink_ipvlan.c):
/// IFLA_IPVLAN_MODE and IFLA_IPVLAN_FLAGS, both u16 (include/uapi/linux/if_link.h).
/// </summary>
public sealed class IpvlanKind : LinkKind
{
    private const ushort ModeAttribute = 1, FlagsAttribute = 2;

    /// <summary>IPVLAN_MODE_* by name.</summary>
    private static readonly (string Name, ushort Value)[] Modes = [("l2", 0), ("l3", 1), ("l3s", 2)];

    internal IpvlanKind() { }

    /// <inheritdoc/>
    public override string Name => "ipvlan";

    /// <inheritdoc/>
    public override ParentUse Parent => ParentUse.Required;

    /// <inheritdoc/>
    public override CarrierSource Carrier => CarrierSource.Parent;

    /// <inheritdoc/>
    public override IReadOnlyList<KindKey> Keys { get; } =
    [
        new("mode", KeyType.OneOf(Modes.Select(m => m.Name).ToArray()), "l2 (default), l3 or l3s: the layer the ipvlan switches at."),
    ];

    /// <inheritdoc/>
    public override LinkData Build(IReadOnlyDictionary<string, object> values) =>
        new IpvlanData(values.GetValueOrDefault("mode") as string ?? "l2");

    /// <inheritdoc/>
    public override IEnumerable<KindAttribute> Describe(LinkData data)
    {
        yield return new("mode", ((IpvlanData)data).Mode, InPlace: true);
    }

    /// <inheritdoc/>
    public override int? DefaultMtu(LinkData data, int? parentMtu) => parentMtu;

    /// <inheritdoc/>
    public override void EncodeData(LinkData data, IInfoDataWriter writer, int? parentIndex)
    {
        writer.U16(ModeAttribute, Modes.First(m => m.Name == ((IpvlanData)data).Mode).Value);
        writer.U16(FlagsAttribute, 0); // bridge (IPVLAN_F_PRIVATE and IPVLAN_F_VEPA unset), as iproute2 sends it
    }

    /// <inheritdoc/>
    public override void EncodeChange(LinkData data, IReadOnlySet<string> changed, IInfoDataWriter writer, int? parentIndex) =>
        writer.U16(ModeAttribute, Modes.First(m => m.Name == ((IpvlanData)data).Mode).Value);

    /// <inheritdoc/>
    public override LinkData Decode(InfoData data)
    {
        ushort? mode = data.U16(ModeAttribute);
        return new IpvlanData(Modes.FirstOrDefault(m => m.Value == mode).Name ?? $"mode {mode}");
    }
}

/// <summary>An ipvlan's attributes.</summary>
public sealed record IpvlanData(string Mode = "l2") : LinkData
{
    /// <inheritdoc/>
    public override LinkKind Kind => LinkKinds.Ipvlan;
}
