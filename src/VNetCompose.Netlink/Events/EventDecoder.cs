using VNetCompose.Kernel;
using VNetCompose.Netlink.Interop;
using VNetCompose.Netlink.Nftables;
using VNetCompose.Netlink.Rtnetlink;
using VNetCompose.Netlink.Tc;
using VNetCompose.Netlink.Wire;

namespace VNetCompose.Netlink.Events;

/// <summary>
/// Turns multicast notifications into <see cref="KernelEvent"/>s with the parsers observation uses
/// (<see cref="LinkParser"/>, <see cref="AddressMessages"/>, <see cref="RouteMessages"/>, <see cref="NftTable"/>,
/// <see cref="NftChain"/>): a notification carries the same message a dump answers with.
/// </summary>
internal static class EventDecoder
{
    /// <summary>ifi_change of the RTM_NEWLINK sent when a device registers (or arrives from another namespace):
    /// rtmsg_ifinfo(RTM_NEWLINK, dev, ~0U, ...) in net/core/dev.c; changes carry only the flags that changed.</summary>
    private const uint RegistrationChange = 0xFFFF_FFFF;

    /// <summary>The events of one datagram of the rtnetlink socket of <paramref name="ns"/>.</summary>
    /// <param name="datagram">The datagram as received (one or more netlink messages).</param>
    /// <param name="ns">The namespace the socket listens in.</param>
    /// <param name="peerNamespace">Resolves a veth's peer namespace id, as <paramref name="ns"/> numbers it; null when unknown.</param>
    /// <param name="events">Receives the decoded events.</param>
    public static void DecodeRoute(ReadOnlySpan<byte> datagram, NetnsId ns, Func<int, NetnsId?> peerNamespace, List<KernelEvent> events)
    {
        foreach (var message in new NetlinkMessageEnumerator(datagram))
        {
            switch (message.Type)
            {
                case Rtm.NEWLINK or Rtm.DELLINK:
                    var info = message.ReadStruct<IfInfoMsg>();
                    // PF_BRIDGE notifications on the same group describe bridge port state, not the link itself.
                    if (info.Family != AddressFamilies.AF_UNSPEC) break;
                    var parsed = LinkParser.Parse(message);
                    var link = parsed.Link.IfLink is { } iflink
                        ? parsed.Link with { IfLink = iflink with { Namespace = parsed.LinkNetnsId is { } nsid ? peerNamespace(nsid) : ns } }
                        : parsed.Link;
                    var change = message.Type == Rtm.DELLINK ? KernelChange.Removed
                        : info.Change == RegistrationChange ? KernelChange.Added : KernelChange.Changed;
                    events.Add(new LinkEvent(ns, change, link));
                    break;
                case Rtm.NEWADDR or Rtm.DELADDR:
                    if (AddressMessages.Parse(message) is { } address)
                        events.Add(new AddressEvent(ns, message.Type == Rtm.DELADDR ? KernelChange.Removed : KernelChange.Added, address));
                    break;
                case Rtm.NEWNETCONF or Rtm.DELNETCONF:
                    if (Netconf(message, ns) is { } netconf) events.Add(netconf);
                    break;
                case TcMessageTypes.NEWQDISC or TcMessageTypes.DELQDISC or TcMessageTypes.NEWTFILTER or TcMessageTypes.DELTFILTER:
                    events.Add(TrafficControl(message, ns));
                    break;
                case Rtm.NEWROUTE or Rtm.DELROUTE:
                    if (RouteMessages.Parse(message) is { } route)
                    {
                        var routeChange = message.Type == Rtm.DELROUTE ? KernelChange.Removed
                            : (message.Flags & Nl.NLM_F_REPLACE) != 0 ? KernelChange.Changed : KernelChange.Added;
                        events.Add(new RouteEvent(ns, routeChange, route));
                    }
                    break;
            }
        }
    }

    /// <summary>RTM_NEWNETCONF / RTM_DELNETCONF (inet_netconf_fill_devconf, inet6_netconf_fill_devconf): the ifindex and the values
    /// carried; null for a family other than IPv4 and IPv6 (MPLS has netconf messages too).</summary>
    private static NetconfEvent? Netconf(NetlinkMessage message, NetnsId ns)
    {
        var header = message.ReadStruct<NetconfMsg>();
        if (header.Family is not (AddressFamilies.AF_INET or AddressFamilies.AF_INET6)) return null;
        int device = 0;
        var values = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var a in message.Attributes<NetconfMsg>())
        {
            switch (a.Type)
            {
                case Netconfa.IFINDEX: device = a.S32(); break;
                case Netconfa.FORWARDING: values["forwarding"] = a.S32(); break;
                case Netconfa.RP_FILTER: values["rp_filter"] = a.S32(); break;
                case Netconfa.MC_FORWARDING: values["mc_forwarding"] = a.S32(); break;
                case Netconfa.PROXY_NEIGH: values["proxy_neigh"] = a.S32(); break;
                case Netconfa.IGNORE_ROUTES_WITH_LINKDOWN: values["ignore_routes_with_linkdown"] = a.S32(); break;
            }
        }
        return new NetconfEvent(ns, message.Type == Rtm.DELNETCONF ? KernelChange.Removed : KernelChange.Added,
            header.Family == AddressFamilies.AF_INET6, device, values);
    }

    /// <summary>A qdisc or filter notification (tc_fill_qdisc, tcf_fill_node in net/sched/): where it is and its kind;
    /// parameters are read by the next observation.</summary>
    private static TrafficControlEvent TrafficControl(NetlinkMessage message, NetnsId ns)
    {
        var header = message.ReadStruct<TcMsg>();
        string kind = "";
        foreach (var a in message.Attributes<TcMsg>())
        {
            if (a.Type == Tca.KIND) kind = a.String();
        }
        bool filter = message.Type is TcMessageTypes.NEWTFILTER or TcMessageTypes.DELTFILTER;
        bool removed = message.Type is TcMessageTypes.DELQDISC or TcMessageTypes.DELTFILTER;
        return new TrafficControlEvent(ns, removed ? KernelChange.Removed : KernelChange.Added,
            filter ? TrafficControlObject.Filter : TrafficControlObject.Qdisc, header.Index, kind, new TcHandle(header.Handle), new TcHandle(header.Parent));
    }

    /// <summary>The events of one datagram of the nfnetlink socket of <paramref name="ns"/>.</summary>
    public static void DecodeNftables(ReadOnlySpan<byte> datagram, NetnsId ns, List<KernelEvent> events)
    {
        foreach (var message in new NetlinkMessageEnumerator(datagram))
        {
            if (message.Type >> 8 != Nfnl.SUBSYS_NFTABLES) continue;
            byte type = (byte)message.Type;
            switch (type)
            {
                case NftMessage.NewTable or NftMessage.DelTable:
                    var table = NftTable.Parse(message);
                    events.Add(new NftEvent(ns, Change(type == NftMessage.DelTable), NftObjectKind.Table, NfProto.Name(table.Family), table.Name, null));
                    break;
                case NftMessage.NewChain or NftMessage.DelChain:
                    var chain = NftChain.Parse(message);
                    events.Add(new NftEvent(ns, Change(type == NftMessage.DelChain), NftObjectKind.Chain, NfProto.Name(chain.Family), chain.Table, chain.Name));
                    break;
                case NftMessage.NewGeneration:
                    uint generation = 0;
                    foreach (var a in message.Attributes<NfGenMsg>())
                    {
                        if (a.Type == NftaGeneration.Id) generation = a.U32BigEndian();
                    }
                    events.Add(new NftCommitEvent(ns, generation));
                    break;
                default:
                    if (OtherObject(type) is { } kind) events.Add(Contained(message, ns, kind));
                    break;
            }
        }
    }

    private static KernelChange Change(bool removed) => removed ? KernelChange.Removed : KernelChange.Added;

    private static (NftObjectKind Kind, bool Removed)? OtherObject(byte type) => type switch
    {
        NftMessage.NewRule => (NftObjectKind.Rule, false),
        NftMessage.DelRule => (NftObjectKind.Rule, true),
        NftMessage.NewSet => (NftObjectKind.Set, false),
        NftMessage.DelSet => (NftObjectKind.Set, true),
        NftMessage.NewSetElement => (NftObjectKind.SetElement, false),
        NftMessage.DelSetElement => (NftObjectKind.SetElement, true),
        NftMessage.NewObject => (NftObjectKind.Object, false),
        NftMessage.DelObject => (NftObjectKind.Object, true),
        NftMessage.NewFlowtable => (NftObjectKind.Flowtable, false),
        NftMessage.DelFlowtable => (NftObjectKind.Flowtable, true),
        _ => null,
    };

    /// <summary>
    /// A rule, set, set element, object or flowtable: only where it lives is read. Each of these messages
    /// starts with the same two attributes: 1 the table (NFTA_RULE_TABLE, NFTA_SET_TABLE,
    /// NFTA_SET_ELEM_LIST_TABLE, NFTA_OBJ_TABLE, NFTA_FLOWTABLE_TABLE), 2 the chain, set or own name.
    /// A rule's expressions are not decoded: a notification only says that the table changed.
    /// </summary>
    private static NftEvent Contained(NetlinkMessage message, NetnsId ns, (NftObjectKind Kind, bool Removed) what)
    {
        const ushort TableAttribute = 1, NameAttribute = 2;
        var header = message.ReadStruct<NfGenMsg>();
        string table = "";
        string? name = null;
        foreach (var a in message.Attributes<NfGenMsg>())
        {
            if (a.Type == TableAttribute) table = a.String();
            else if (a.Type == NameAttribute) name = a.String();
        }
        return new NftEvent(ns, Change(what.Removed), what.Kind, NfProto.Name(header.Family), table, name);
    }
}
