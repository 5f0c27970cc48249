namespace VNetCompose.Kernel.Links.Kinds;

/// <summary>
/// macvlan (drivers/net/macvlan.c): a link with its own MAC address on a parent's wire. Its parent may live in
/// another namespace (<c>parent: host/eth0</c>): the request then goes to the parent's namespace with
/// IFLA_NET_NS_FD naming the macvlan's, as <c>ip link add link eth0 name mv0 netns c1 type macvlan</c> sends it.
/// The mode changes in place (macvlan_changelink); the parent cannot. IFLA_MACVLAN_* and MACVLAN_MODE_* from
/// include/uapi/linux/if_link.h.
/// </summary>
public sealed class MacvlanKind : LinkKind
{
    internal const ushort ModeAttribute = 1;

    /// <summary>MACVLAN_MODE_* by name, in iproute2's words.</summary>
    internal static readonly (string Name, uint Value)[] Modes =
        [("private", 1), ("vepa", 2), ("bridge", 4), ("passthru", 8), ("source", 16)];

    internal static readonly KindKey ModeKey = new("mode", KeyType.OneOf(Modes.Select(m => m.Name).ToArray()),
        "How links on the same parent reach each other: private, vepa, bridge (default), passthru or source.");

    internal MacvlanKind() { }

    /// <inheritdoc/>
    public override string Name => "macvlan";

    /// <inheritdoc/>
    public override ParentUse Parent => ParentUse.Required;

    /// <inheritdoc/>
    public override CarrierSource Carrier => CarrierSource.Parent;

    /// <inheritdoc/>
    public override IReadOnlyList<KindKey> Keys { get; } = [ModeKey];

    /// <inheritdoc/>
    public override LinkData Build(IReadOnlyDictionary<string, object> values) =>
        new MacvlanData(values.GetValueOrDefault("mode") as string ?? "bridge");

    /// <inheritdoc/>
    public override IEnumerable<KindAttribute> Describe(LinkData data)
    {
        yield return new("mode", ((MacvlanData)data).Mode, InPlace: true);
    }

    /// <inheritdoc/>
    public override int? DefaultMtu(LinkData data, int? parentMtu) => parentMtu;

    /// <inheritdoc/>
    public override void EncodeData(LinkData data, IInfoDataWriter writer, int? parentIndex) =>
        writer.U32(ModeAttribute, ModeValue(((MacvlanData)data).Mode));

    /// <inheritdoc/>
    public override LinkData Decode(InfoData data) => new MacvlanData(ModeName(data.U32(ModeAttribute)));

    internal static uint ModeValue(string mode) => Modes.First(m => m.Name == mode).Value;

    internal static string ModeName(uint? value) =>
        Modes.FirstOrDefault(m => m.Value == value).Name ?? $"mode {value?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"}";
}

/// <summary>A macvlan's attributes.</summary>
public sealed record MacvlanData(string Mode = "bridge") : LinkData
{
    /// <inheritdoc/>
    public override LinkKind Kind => LinkKinds.Macvlan;
}
