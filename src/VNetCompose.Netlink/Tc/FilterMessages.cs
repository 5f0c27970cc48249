using System.Buffers.Binary;
using System.Runtime.InteropServices;
using VNetCompose.Kernel;
using VNetCompose.Netlink.Interop;
using VNetCompose.Netlink.Wire;

namespace VNetCompose.Netlink.Tc;

/// <summary>
/// RTM_NEWTFILTER / RTM_DELTFILTER / RTM_GETTFILTER for the one filter vnet uses: a u32 rule matching
/// every packet whose action redirects it to another device's egress (tc/f_u32.c, tc/m_mirred.c).
/// </summary>
internal static class FilterMessages
{
    /// <summary>
    /// <c>tc filter add dev LINK parent PARENT protocol all prio PRIO u32 match u32 0 0 action mirred egress
    /// redirect dev TARGET [cookie HEX]</c>.
    /// </summary>
    public static void AddRedirect(NetlinkMessageBuilder builder, int linkIndex, TcHandle parent, ushort priority,
        int targetIndex, ReadOnlySpan<byte> cookie)
    {
        if (cookie.Length > ActionAttributes.CookieMaxSize) throw new ArgumentException("an action cookie holds at most 16 bytes", nameof(cookie));
        builder.BeginMessage(TcMessageTypes.NEWTFILTER, Nl.NLM_F_CREATE | Nl.NLM_F_EXCL)
            .Struct(new TcMsg { Index = linkIndex, Parent = parent.Value, Info = Info(priority) })
            .String(Tca.KIND, "u32");
        int options = builder.BeginNested(Tca.OPTIONS);
        int actions = builder.BeginNested(U32Attributes.ACT);
        int first = builder.BeginNested(1); // actions are numbered from 1 in the order they run
        builder.String(ActionAttributes.KIND, "mirred");
        int actionOptions = builder.BeginNested(ActionAttributes.OPTIONS, markNested: true);
        var mirred = new TcMirred
        {
            Action = ActionAttributes.TC_ACT_STOLEN,
            ExtendedAction = MirredAttributes.TCA_EGRESS_REDIR,
            TargetIndex = (uint)targetIndex,
        };
        builder.Attribute(MirredAttributes.PARMS, MemoryMarshal.AsBytes(new ReadOnlySpan<TcMirred>(in mirred)));
        builder.EndNested(actionOptions);
        if (!cookie.IsEmpty) builder.Attribute(ActionAttributes.COOKIE, cookie);
        builder.EndNested(first).EndNested(actions);
        // One key matching anything: mask 0, value 0 at offset 0; terminal, so the action decides.
        var selector = new TcU32SelOneKey { Flags = U32Attributes.TERMINAL, KeyCount = 1 };
        builder.Attribute(U32Attributes.SEL, MemoryMarshal.AsBytes(new ReadOnlySpan<TcU32SelOneKey>(in selector)));
        builder.EndNested(options).EndMessage();
    }

    /// <summary><c>tc filter del dev LINK parent PARENT protocol all prio PRIO</c>: every filter of that priority.</summary>
    public static void Delete(NetlinkMessageBuilder builder, int linkIndex, TcHandle parent, ushort priority) =>
        builder.BeginMessage(TcMessageTypes.DELTFILTER, 0)
            .Struct(new TcMsg { Index = linkIndex, Parent = parent.Value, Info = Info(priority) })
            .EndMessage();

    /// <summary><c>tc filter show dev LINK parent PARENT</c>.</summary>
    public static void Dump(NetlinkMessageBuilder builder, int linkIndex, TcHandle parent) =>
        builder.BeginMessage(TcMessageTypes.GETTFILTER, 0)
            .Struct(new TcMsg { Index = linkIndex, Parent = parent.Value })
            .EndMessage();

    /// <summary>tcm_info of a filter: TC_H_MAKE(prio &lt;&lt; 16, htons(protocol)).</summary>
    private static uint Info(ushort priority) =>
        ((uint)priority << 16) | (BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(EthernetProtocols.All) : EthernetProtocols.All);
}
