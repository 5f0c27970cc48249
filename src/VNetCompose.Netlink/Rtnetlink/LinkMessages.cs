using VNetCompose.Kernel;
using VNetCompose.Kernel.Links;
using VNetCompose.Netlink.Interop;
using VNetCompose.Netlink.Wire;

namespace VNetCompose.Netlink.Rtnetlink;

/// <summary>
/// RTM_NEWLINK / RTM_DELLINK / RTM_GETLINK requests (net/core/rtnetlink.c). Each method appends one
/// message to a builder and names its iproute2 equivalent.
/// </summary>
internal static class LinkMessages
{
    /// <summary>Attributes a link takes at creation: rtnl_create_link applies mtu, address and group
    /// (ifalias is not: <see cref="Set"/> it afterwards).</summary>
    public readonly record struct NewLink(string Name, int? Mtu, string? Mac, uint Group, int? NamespaceFd);

    /// <summary>
    /// <c>ip link add A [mtu M] [address X] [group G] numtxqueues 1 numrxqueues 1 type veth peer name B [netns NS]
    /// ... numtxqueues 1 numrxqueues 1</c>. One queue each way, as a veth uses by default, but given at
    /// creation: without it the kernel allocates one per CPU and then cuts the real count to one on the
    /// registered device (veth_init_queues, drivers/net/veth.c), an RCU synchronisation per end.
    /// </summary>
    public static void CreateVeth(NetlinkMessageBuilder builder, NewLink link, NewLink peer, string operation)
    {
        BeginCreate(builder, link, operation);
        SingleQueue(builder);
        int linkInfo = builder.BeginNested(Ifla.LINKINFO);
        builder.Text(Ifla.INFO_KIND, "veth");
        int data = builder.BeginNested(Ifla.INFO_DATA);
        int peerInfo = builder.BeginNested(Ifla.VETH_INFO_PEER);
        builder.Struct(new IfInfoMsg());
        CommonAttributes(builder, peer, operation);
        SingleQueue(builder);
        builder.EndNested(peerInfo).EndNested(data).EndNested(linkInfo).EndMessage();
    }

    /// <summary>
    /// <c>ip link add [link PARENT] NAME [mtu M] [address X] [group G] [netns NS] type KIND ...</c>, with the
    /// attributes in iproute2's order (IFLA_LINK first, IFLA_INFO_KIND without terminator), so the request is
    /// byte for byte what <c>ip</c> sends. <paramref name="parentIndex"/> goes into IFLA_LINK for kinds built on a
    /// parent and is handed to the kind's encoder for kinds that carry it in their data (a vxlan's underlay).
    /// </summary>
    public static void Create(NetlinkMessageBuilder builder, NewLink link, LinkData data, int? parentIndex, string operation)
    {
        builder.BeginMessage(Rtm.NEWLINK, Nl.NLM_F_CREATE | Nl.NLM_F_EXCL).Struct(new IfInfoMsg());
        if (data.Kind.Parent == ParentUse.Required && parentIndex is { } parent) builder.U32(Ifla.LINK, unchecked((uint)parent));
        CommonAttributes(builder, link, operation);
        int linkInfo = builder.BeginNested(Ifla.LINKINFO);
        builder.Text(Ifla.INFO_KIND, data.Kind.KernelKind);
        int info = builder.BeginNested(Ifla.INFO_DATA);
        data.Kind.EncodeData(data, new InfoDataWriter(builder), parentIndex);
        builder.EndNestedOrDrop(info).EndNested(linkInfo).EndMessage();
    }

    /// <summary>
    /// <c>ip link set NAME [name NEW] [mtu M] [address X] [master B | nomaster] [alias A] [group G] [up|down]</c>,
    /// plus <c>type KIND ...</c> for the kind attributes <see cref="LinkUpdate.Kind"/> names. The link is found by
    /// <paramref name="index"/> when given (required to rename), otherwise by name.
    /// </summary>
    public static void Set(NetlinkMessageBuilder builder, string name, int index, LinkUpdate update, int? masterIndex,
        int? kindParentIndex, string operation)
    {
        uint change = update.Up is null ? 0 : Iff.UP;
        builder.BeginMessage(Rtm.NEWLINK, 0)
            .Struct(new IfInfoMsg { Index = index, Change = change, Flags = update.Up == true ? Iff.UP : 0 });
        if (index == 0 || update.NewName is not null) builder.String(Ifla.IFNAME, update.NewName ?? name);
        if (update.Mtu is { } mtu) builder.U32(Ifla.MTU, unchecked((uint)mtu));
        if (update.Mac is { } mac) builder.Attribute(Ifla.ADDRESS, HardwareAddress.Parse(mac, operation));
        if (masterIndex is { } master) builder.U32(Ifla.MASTER, unchecked((uint)master));
        if (update.Alias is { } alias) builder.String(Ifla.IFALIAS, alias);
        if (update.Group is { } group) builder.U32(Ifla.GROUP, group);
        if (update.Kind is { } kind && kind.Data.Kind.CreatedByNetlink)
        {
            int linkInfo = builder.BeginNested(Ifla.LINKINFO);
            builder.Text(Ifla.INFO_KIND, kind.Data.Kind.KernelKind);
            int data = builder.BeginNested(Ifla.INFO_DATA);
            kind.Data.Kind.EncodeChange(kind.Data, kind.Attributes.ToHashSet(StringComparer.Ordinal), new InfoDataWriter(builder),
                kindParentIndex);
            // Nothing to say to the kernel (a macvtap's owner is its device node's): no IFLA_LINKINFO at all.
            if (builder.EndNestedOrDropped(data)) builder.EndNested(linkInfo);
            else builder.DropNested(linkInfo);
        }
        builder.EndMessage();
    }

    /// <summary><c>ip link set NAME alias A [mtu M] [address X] [group G]</c>: what creation could not set.</summary>
    public static void SetByName(NetlinkMessageBuilder builder, string name, LinkUpdate update, string operation) =>
        Set(builder, name, index: 0, update, masterIndex: null, kindParentIndex: null, operation);

    /// <summary><c>ip link set NAME netns NS</c>, the link found by name.</summary>
    public static void Move(NetlinkMessageBuilder builder, string name, int namespaceFd)
    {
        builder.BeginMessage(Rtm.NEWLINK, 0).Struct(new IfInfoMsg())
            .String(Ifla.IFNAME, name).U32(Ifla.NET_NS_FD, unchecked((uint)namespaceFd)).EndMessage();
    }

    /// <summary><c>ip link del NAME</c></summary>
    public static void Delete(NetlinkMessageBuilder builder, string name)
    {
        builder.BeginMessage(Rtm.DELLINK, 0).Struct(new IfInfoMsg()).String(Ifla.IFNAME, name).EndMessage();
    }

    /// <summary><c>ip link show NAME</c> (one link, statistics skipped).</summary>
    public static void Get(NetlinkMessageBuilder builder, string name)
    {
        const uint skipStats = 1 << 3; // RTEXT_FILTER_SKIP_STATS
        builder.BeginMessage(Rtm.GETLINK, 0).Struct(new IfInfoMsg())
            .String(Ifla.IFNAME, name).U32(Ifla.EXT_MASK, skipStats).EndMessage();
    }

    /// <summary><c>ip -d link show</c> of the whole namespace.</summary>
    public static void Dump(NetlinkMessageBuilder builder)
    {
        const uint skipStats = 1 << 3;
        builder.BeginMessage(Rtm.GETLINK, 0).Struct(new IfInfoMsg()).U32(Ifla.EXT_MASK, skipStats).EndMessage();
    }

    private static void BeginCreate(NetlinkMessageBuilder builder, NewLink link, string operation)
    {
        builder.BeginMessage(Rtm.NEWLINK, Nl.NLM_F_CREATE | Nl.NLM_F_EXCL).Struct(new IfInfoMsg());
        CommonAttributes(builder, link, operation);
    }

    private static void SingleQueue(NetlinkMessageBuilder builder) =>
        builder.U32(Ifla.NUM_TX_QUEUES, 1).U32(Ifla.NUM_RX_QUEUES, 1);

    private static void CommonAttributes(NetlinkMessageBuilder builder, NewLink link, string operation)
    {
        builder.String(Ifla.IFNAME, link.Name);
        if (link.Mtu is { } mtu) builder.U32(Ifla.MTU, unchecked((uint)mtu));
        if (link.Mac is { } mac) builder.Attribute(Ifla.ADDRESS, HardwareAddress.Parse(mac, operation));
        if (link.Group != 0) builder.U32(Ifla.GROUP, link.Group);
        if (link.NamespaceFd is { } fd) builder.U32(Ifla.NET_NS_FD, unchecked((uint)fd));
    }
}
