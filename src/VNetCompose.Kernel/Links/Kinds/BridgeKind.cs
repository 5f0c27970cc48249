namespace VNetCompose.Kernel.Links.Kinds;

/// <summary>
/// A Linux bridge (net/bridge): a software switch whose ports are links with <c>bridge:</c> naming it.
/// Its MTU follows its smallest port until set (br_mtu_auto_adjust), so an undeclared MTU is left alone.
/// IFLA_BR_* from include/uapi/linux/if_link.h.
/// </summary>
public sealed class BridgeKind : LinkKind
{
    private const ushort StpState = 5, VlanFiltering = 7;

    internal BridgeKind() { }

    /// <inheritdoc/>
    public override string Name => "bridge";

    /// <inheritdoc/>
    public override bool IsSwitch => true;

    /// <inheritdoc/>
    public override CarrierSource Carrier => CarrierSource.Ports;

    /// <inheritdoc/>
    public override IReadOnlyList<KindKey> Keys { get; } =
    [
        new("stp", KeyType.Boolean, "Run the spanning tree protocol (stp_state 1); default false."),
        new("vlan_filtering", KeyType.Boolean, "Filter frames by VLAN on the bridge's ports; default false (not every kernel has it)."),
    ];

    /// <inheritdoc/>
    public override bool NeedsProbe(LinkData data) => ((BridgeData)data).VlanFiltering;

    /// <inheritdoc/>
    public override bool ProbeByCreating(LinkData data) => true;

    /// <inheritdoc/>
    public override (string Key, string Message) Unsupported(LinkData data, string kernelReason) =>
        ("vlan_filtering", $"bridge vlan_filtering is not supported by this kernel (rtnetlink: {kernelReason}); remove the key or set it to false");

    /// <inheritdoc/>
    public override LinkData Build(IReadOnlyDictionary<string, object> values) =>
        new BridgeData(values.GetValueOrDefault("stp") is true, values.GetValueOrDefault("vlan_filtering") is true);

    /// <inheritdoc/>
    public override IEnumerable<KindAttribute> Describe(LinkData data)
    {
        var bridge = (BridgeData)data;
        yield return new("stp", Text.Of(bridge.Stp), InPlace: true);
        yield return new("vlan_filtering", Text.Of(bridge.VlanFiltering), InPlace: true);
    }

    /// <inheritdoc/>
    public override int? DefaultMtu(LinkData data, int? parentMtu) => null;

    /// <inheritdoc/>
    public override void EncodeData(LinkData data, IInfoDataWriter writer, int? parentIndex)
    {
        var bridge = (BridgeData)data;
        if (bridge.Stp) writer.U32(StpState, 1);
        if (bridge.VlanFiltering) writer.U8(VlanFiltering, 1);
    }

    /// <inheritdoc/>
    public override void EncodeChange(LinkData data, IReadOnlySet<string> changed, IInfoDataWriter writer, int? parentIndex)
    {
        var bridge = (BridgeData)data;
        if (changed.Contains("stp")) writer.U32(StpState, bridge.Stp ? 1u : 0u);
        if (changed.Contains("vlan_filtering")) writer.U8(VlanFiltering, bridge.VlanFiltering ? (byte)1 : (byte)0);
    }

    /// <inheritdoc/>
    public override LinkData Decode(InfoData data) =>
        new BridgeData(data.U32(StpState) is > 0, data.U8(VlanFiltering) is > 0);
}

/// <summary>A bridge's attributes.</summary>
public sealed record BridgeData(bool Stp = false, bool VlanFiltering = false) : LinkData
{
    /// <inheritdoc/>
    public override LinkKind Kind => LinkKinds.Bridge;
}
