namespace VNetCompose.Kernel.Links.Kinds;

/// <summary>
/// macvtap (drivers/net/macvtap.c): a macvlan whose frames a program reads and writes through the character
/// device <c>/dev/tap&lt;ifindex&gt;</c> (QEMU <c>-netdev tap,fd=N</c>). The kernel has no owner attribute for it:
/// vnet makes the device node usable by <c>owner</c>/<c>group</c> by changing the node's ownership, which it
/// reads back the same way. Modes as for <see cref="MacvlanKind"/>.
/// </summary>
public sealed class MacvtapKind : LinkKind
{
    internal MacvtapKind() { }

    /// <inheritdoc/>
    public override string Name => "macvtap";

    /// <inheritdoc/>
    public override ParentUse Parent => ParentUse.Required;

    /// <inheritdoc/>
    public override CarrierSource Carrier => CarrierSource.Parent;

    /// <inheritdoc/>
    public override IReadOnlyList<KindKey> Keys { get; } =
    [
        MacvlanKind.ModeKey,
        new("owner", KeyType.Integer(0, int.MaxValue), "User id that owns /dev/tapN (the device a program opens); default root."),
        new("group", KeyType.Integer(0, int.MaxValue), "Group id of /dev/tapN; default root."),
    ];

    /// <inheritdoc/>
    public override LinkData Build(IReadOnlyDictionary<string, object> values) => new MacvtapData(
        values.GetValueOrDefault("mode") as string ?? "bridge",
        values.GetValueOrDefault("owner") is long owner ? (int)owner : null,
        values.GetValueOrDefault("group") is long group ? (int)group : null);

    /// <inheritdoc/>
    public override IEnumerable<KindAttribute> Describe(LinkData data)
    {
        var tap = (MacvtapData)data;
        yield return new("mode", tap.Mode, InPlace: true);
        yield return new("owner", Text.Of(tap.Owner ?? 0), InPlace: true);
        yield return new("group", Text.Of(tap.Group ?? 0), InPlace: true);
    }

    /// <inheritdoc/>
    public override int? DefaultMtu(LinkData data, int? parentMtu) => parentMtu;

    /// <inheritdoc/>
    public override void EncodeData(LinkData data, IInfoDataWriter writer, int? parentIndex) =>
        writer.U32(MacvlanKind.ModeAttribute, MacvlanKind.ModeValue(((MacvtapData)data).Mode));

    /// <inheritdoc/>
    public override void EncodeChange(LinkData data, IReadOnlySet<string> changed, IInfoDataWriter writer, int? parentIndex)
    {
        if (changed.Contains("mode")) EncodeData(data, writer, parentIndex);
    }

    /// <inheritdoc/>
    public override LinkData Decode(InfoData data) => new MacvtapData(MacvlanKind.ModeName(data.U32(MacvlanKind.ModeAttribute)));

    /// <summary>The character device of a macvtap (tap_create_cdev names it after the ifindex).</summary>
    public override string? DeviceNode(int ifindex) => $"/dev/tap{ifindex.ToString(System.Globalization.CultureInfo.InvariantCulture)}";
}

/// <summary>A macvtap's attributes; Owner and Group are those of its device node (null: root).</summary>
public sealed record MacvtapData(string Mode = "bridge", int? Owner = null, int? Group = null) : LinkData, IDeviceOwnership
{
    /// <inheritdoc/>
    public override LinkKind Kind => LinkKinds.Macvtap;

    /// <inheritdoc/>
    public LinkData WithOwnership(int? owner, int? group) => this with { Owner = owner, Group = group };
}
