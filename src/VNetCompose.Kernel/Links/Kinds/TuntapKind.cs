namespace VNetCompose.Kernel.Links.Kinds;

/// <summary>
/// A persistent tun (IP packets) or tap (Ethernet frames) device (drivers/net/tun.c), made the way
/// <c>ip tuntap add</c> does: opening /dev/net/tun inside the namespace and TUNSETIFF, TUNSETOWNER/GROUP,
/// TUNSETPERSIST (<see cref="CreatedByNetlink"/> is false). Both report IFLA_INFO_KIND <c>tun</c>; the mode
/// tells them apart. A program that attaches (QEMU) sets the queue flags it wants, so multi_queue and vnet_hdr
/// are compared only while no queue is attached (IFLA_TUN_NUM_QUEUES is 0). IFLA_TUN_* from if_link.h.
/// </summary>
public sealed class TuntapKind : LinkKind
{
    private const ushort Owner = 1, Group = 2, Type = 3, VnetHdr = 5, Persist = 6, MultiQueue = 7, NumQueues = 8;
    private const byte TypeTun = 1, TypeTap = 2; // IFF_TUN, IFF_TAP (include/uapi/linux/if_tun.h)

    internal TuntapKind(TunMode mode) => Mode = mode;

    /// <summary>tun or tap.</summary>
    public TunMode Mode { get; }

    /// <inheritdoc/>
    public override string Name => Mode == TunMode.Tap ? "tap" : "tun";

    /// <inheritdoc/>
    public override string KernelKind => "tun";

    /// <inheritdoc/>
    public override bool CarriesEthernet => Mode == TunMode.Tap;

    /// <inheritdoc/>
    public override bool CreatedByNetlink => false;

    /// <inheritdoc/>
    public override CarrierSource Carrier => CarrierSource.Reader;

    /// <inheritdoc/>
    public override IReadOnlyList<KindKey> Keys { get; } =
    [
        new("owner", KeyType.Integer(0, int.MaxValue), "User id allowed to attach to the device (TUNSETOWNER)."),
        new("group", KeyType.Integer(0, int.MaxValue), "Group id allowed to attach to the device (TUNSETGROUP)."),
        new("multi_queue", KeyType.Boolean, "Create the device with several queues (IFF_MULTI_QUEUE), as QEMU's queues=N needs; default false."),
        new("vnet_hdr", KeyType.Boolean, "Frames carry a virtio-net header (IFF_VNET_HDR), as QEMU's virtio-net offloads need; default false."),
    ];

    /// <inheritdoc/>
    public override bool NeedsProbe(LinkData data) => false;

    /// <inheritdoc/>
    public override LinkData Build(IReadOnlyDictionary<string, object> values) => new TunData(Mode,
        values.GetValueOrDefault("owner") is long owner ? (int)owner : null,
        values.GetValueOrDefault("group") is long group ? (int)group : null,
        values.GetValueOrDefault("multi_queue") is true,
        values.GetValueOrDefault("vnet_hdr") is true);

    /// <inheritdoc/>
    public override IEnumerable<KindAttribute> Describe(LinkData data)
    {
        var tun = (TunData)data;
        yield return new("owner", Text.Of(tun.Owner), InPlace: false);
        yield return new("group", Text.Of(tun.Group), InPlace: false);
        yield return new("multi_queue", Text.Of(tun.MultiQueue), InPlace: false);
        yield return new("vnet_hdr", Text.Of(tun.VnetHdr), InPlace: false);
    }

    /// <inheritdoc/>
    public override IEnumerable<KindDifference> Compare(LinkData desired, LinkData observed) =>
        ((TunData)observed).AttachedQueues > 0
            ? base.Compare(desired, observed).Where(d => d.Name is "owner" or "group") // the attached program's choice
            : base.Compare(desired, observed);

    /// <inheritdoc/>
    public override LinkData Decode(InfoData data) => new TunData(
        data.U8(Type) == TypeTap ? TunMode.Tap : TunMode.Tun,
        data.U32(Owner) is { } owner ? (int)owner : null,
        data.U32(Group) is { } group ? (int)group : null,
        data.U8(MultiQueue) is > 0,
        data.U8(VnetHdr) is > 0,
        data.U8(Persist) is > 0,
        (int)(data.U32(NumQueues) ?? 0));

    /// <inheritdoc/>
    public override bool Matches(LinkState link) => link.Kind == KernelKind && (link.Data as TunData)?.Mode == Mode;

    /// <summary>TUN_TYPE as the kernel writes it.</summary>
    internal static byte TypeOf(TunMode mode) => mode == TunMode.Tap ? TypeTap : TypeTun;
}

/// <summary>A tun/tap's attributes. Owner and Group are null when unset (-1 in the kernel).</summary>
/// <param name="Mode">tun or tap.</param>
/// <param name="Owner">Uid allowed to open it; null: root only.</param>
/// <param name="Group">Gid allowed to open it; null: none.</param>
/// <param name="MultiQueue">IFF_MULTI_QUEUE.</param>
/// <param name="VnetHdr">IFF_VNET_HDR: frames carry a virtio-net header (what a VM's NIC uses).</param>
/// <param name="Persist">IFF_PERSIST: the device outlives the program that created it (always, for vnet's).</param>
/// <param name="AttachedQueues">IFLA_TUN_NUM_QUEUES: queues a program holds open now (observed only).</param>
public sealed record TunData(TunMode Mode, int? Owner = null, int? Group = null, bool MultiQueue = false, bool VnetHdr = false,
    bool Persist = true, int AttachedQueues = 0) : LinkData
{
    /// <inheritdoc/>
    public override LinkKind Kind => Mode == TunMode.Tap ? LinkKinds.Tap : LinkKinds.Tun;
}
