using VNetCompose.Kernel;
using VNetCompose.Kernel.Links;
using VNetCompose.Netlink.Interop;
using VNetCompose.Netlink.Wire;

namespace VNetCompose.Netlink.Rtnetlink;

/// <summary>A link as dumped, with the namespace of its IFLA_LINK (a veth's peer, a macvlan's parent) still as the
/// raw nsid (IFLA_LINK_NETNSID) of the dumping namespace; null nsid means the same namespace.</summary>
internal sealed record ParsedLink(LinkState Link, int? LinkNetnsId);

/// <summary>Decodes RTM_NEWLINK messages (rtnl_fill_ifinfo in net/core/rtnetlink.c); IFLA_INFO_DATA is decoded by
/// the kind's descriptor (<see cref="LinkKinds"/>).</summary>
internal static class LinkParser
{
    public static ParsedLink Parse(NetlinkMessage message)
    {
        var info = message.ReadStruct<IfInfoMsg>();
        string name = "";
        string kind = "";
        int mtu = 0, master = 0;
        int? iflink = null, netnsId = null;
        string? mac = null, alias = null;
        uint group = 0;
        byte operState = 0;
        InfoData? infoData = null;
        string? rootQdisc = null;

        foreach (var a in message.Attributes<IfInfoMsg>())
        {
            switch (a.Type)
            {
                case Ifla.IFNAME: name = a.String(); break;
                case Ifla.MTU: mtu = (int)a.U32(); break;
                case Ifla.ADDRESS: mac = a.HardwareAddress(); break;
                case Ifla.MASTER: master = (int)a.U32(); break;
                case Ifla.LINK: iflink = (int)a.U32(); break;
                case Ifla.LINK_NETNSID: netnsId = a.S32(); break;
                case Ifla.OPERSTATE: operState = a.U8(); break;
                case Ifla.IFALIAS: alias = a.String(); break;
                case Ifla.GROUP: group = a.U32(); break;
                case Ifla.QDISC: rootQdisc = a.String(); break;
                case Ifla.LINKINFO:
                    (kind, infoData) = ParseLinkInfo(a.Nested());
                    break;
            }
        }

        // A link without a lower device reports itself as its iflink (dev_get_iflink): that names nothing.
        bool namesAnother = iflink is { } l && l != 0 && (l != info.Index || netnsId is not null);
        var link = new LinkState(
            info.Index, name, kind, mtu, mac, master,
            AdminUp: (info.Flags & Iff.UP) != 0,
            OperState: operState < Ifla.OperStates.Length ? Ifla.OperStates[operState] : $"state {operState}",
            Alias: string.IsNullOrEmpty(alias) ? null : alias,
            group,
            IfLink: namesAnother ? new IfLink(iflink!.Value, null) : null,
            Data: LinkKinds.ForKernelKind(kind)?.Decode(infoData ?? InfoData.Empty)) { RootQdisc = rootQdisc };
        return new ParsedLink(link, namesAnother ? netnsId : null);
    }

    private static (string Kind, InfoData? Data) ParseLinkInfo(NetlinkAttributeEnumerator linkInfo)
    {
        string kind = "";
        InfoData? data = null;
        foreach (var a in linkInfo)
        {
            if (a.Type == Ifla.INFO_KIND) kind = a.String();
            else if (a.Type == Ifla.INFO_DATA)
            {
                var attributes = new Dictionary<ushort, byte[]>();
                foreach (var d in a.Nested()) attributes[d.Type] = d.Payload.ToArray();
                data = new InfoData(attributes);
            }
        }
        return (kind, data);
    }
}
