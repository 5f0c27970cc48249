using VNetCompose.Kernel;
using VNetCompose.Netlink.Interop;
using VNetCompose.Netlink.Wire;

namespace VNetCompose.Netlink.Rtnetlink;

/// <summary>A link as dumped, with the veth peer's namespace still as the raw nsid (IFLA_LINK_NETNSID)
/// of the dumping namespace; null nsid means the peer lives in the same namespace.</summary>
internal sealed record ParsedLink(LinkState Link, int? PeerNetnsId);

/// <summary>Decodes RTM_NEWLINK messages (rtnl_fill_ifinfo in net/core/rtnetlink.c).</summary>
internal static class LinkParser
{
    public static ParsedLink Parse(NetlinkMessage message)
    {
        var info = message.ReadStruct<IfInfoMsg>();
        string name = "";
        string kind = "";
        int mtu = 0, master = 0, peerIndex = 0;
        int? netnsId = null;
        string? mac = null, alias = null;
        uint group = 0;
        byte operState = 0;
        BridgeAttributes? bridge = null;
        TunAttributes? tun = null;

        foreach (var a in message.Attributes<IfInfoMsg>())
        {
            switch (a.Type)
            {
                case Ifla.IFNAME: name = a.String(); break;
                case Ifla.MTU: mtu = (int)a.U32(); break;
                case Ifla.ADDRESS: mac = a.HardwareAddress(); break;
                case Ifla.MASTER: master = (int)a.U32(); break;
                case Ifla.LINK: peerIndex = (int)a.U32(); break;
                case Ifla.LINK_NETNSID: netnsId = a.S32(); break;
                case Ifla.OPERSTATE: operState = a.U8(); break;
                case Ifla.IFALIAS: alias = a.String(); break;
                case Ifla.GROUP: group = a.U32(); break;
                case Ifla.LINKINFO:
                    (kind, bridge, tun) = ParseLinkInfo(a.Nested());
                    break;
            }
        }

        bool isVeth = kind == "veth";
        var link = new LinkState(
            info.Index, name, kind, mtu, mac, master,
            AdminUp: (info.Flags & Iff.UP) != 0,
            OperState: operState < Ifla.OperStates.Length ? Ifla.OperStates[operState] : $"state {operState}",
            Alias: string.IsNullOrEmpty(alias) ? null : alias,
            group,
            Veth: isVeth ? new VethPeer(peerIndex, null) : null,
            bridge, tun);
        return new ParsedLink(link, isVeth ? netnsId : null);
    }

    private static (string Kind, BridgeAttributes? Bridge, TunAttributes? Tun) ParseLinkInfo(NetlinkAttributeEnumerator linkInfo)
    {
        string kind = "";
        BridgeAttributes? bridge = null;
        TunAttributes? tun = null;
        foreach (var a in linkInfo)
        {
            if (a.Type == Ifla.INFO_KIND) kind = a.String();
        }
        foreach (var a in linkInfo)
        {
            if (a.Type != Ifla.INFO_DATA) continue;
            if (kind == "bridge") bridge = ParseBridge(a.Nested());
            else if (kind == "tun") tun = ParseTun(a.Nested());
        }
        return (kind, bridge, tun);
    }

    private static BridgeAttributes ParseBridge(NetlinkAttributeEnumerator data)
    {
        bool stp = false, vlanFiltering = false;
        foreach (var a in data)
        {
            if (a.Type == Ifla.BR_STP_STATE) stp = a.U32() != 0;
            else if (a.Type == Ifla.BR_VLAN_FILTERING) vlanFiltering = a.U8() != 0;
        }
        return new BridgeAttributes(stp, vlanFiltering);
    }

    /// <summary>tun_fill_info (drivers/net/tun.c): owner and group are present only when set.</summary>
    private static TunAttributes ParseTun(NetlinkAttributeEnumerator data)
    {
        var mode = TunMode.Tun;
        int? owner = null, group = null;
        bool multiQueue = false, persist = false, vnetHdr = false;
        foreach (var a in data)
        {
            switch (a.Type)
            {
                case Ifla.TUN_TYPE: mode = a.U8() == Tun.TypeTap ? TunMode.Tap : TunMode.Tun; break;
                case Ifla.TUN_OWNER: owner = (int)a.U32(); break;
                case Ifla.TUN_GROUP: group = (int)a.U32(); break;
                case Ifla.TUN_MULTI_QUEUE: multiQueue = a.U8() != 0; break;
                case Ifla.TUN_PERSIST: persist = a.U8() != 0; break;
                case Ifla.TUN_VNET_HDR: vnetHdr = a.U8() != 0; break;
            }
        }
        return new TunAttributes(mode, owner, group, multiQueue, persist, vnetHdr);
    }
}
