using System.Net;
using System.Net.Sockets;
using VNetCompose.Kernel;
using VNetCompose.Netlink.Interop;
using VNetCompose.Netlink.Wire;

namespace VNetCompose.Netlink.Rtnetlink;

/// <summary>RTM_NEWADDR / RTM_DELADDR / RTM_GETADDR (net/ipv4/devinet.c, net/ipv6/addrconf.c).</summary>
internal static class AddressMessages
{
    /// <summary><c>ip addr add A/P dev L [nodad]</c>: IPv6 always without duplicate address detection,
    /// so the address is usable at once (not "tentative").</summary>
    public static void Add(NetlinkMessageBuilder builder, int linkIndex, IPAddress address, int prefixLength) =>
        Write(builder, Rtm.NEWADDR, Nl.NLM_F_CREATE | Nl.NLM_F_EXCL, linkIndex, address, prefixLength);

    /// <summary><c>ip addr del A/P dev L</c></summary>
    public static void Delete(NetlinkMessageBuilder builder, int linkIndex, IPAddress address, int prefixLength) =>
        Write(builder, Rtm.DELADDR, 0, linkIndex, address, prefixLength);

    /// <summary><c>ip addr show</c> (both families).</summary>
    public static void Dump(NetlinkMessageBuilder builder) =>
        builder.BeginMessage(Rtm.GETADDR, 0).Struct(new IfAddrMsg()).EndMessage();

    public static AddressState? Parse(NetlinkMessage message)
    {
        var header = message.ReadStruct<IfAddrMsg>();
        if (header.Family is not (AddressFamilies.AF_INET or AddressFamilies.AF_INET6)) return null;
        IPAddress? local = null, address = null;
        foreach (var a in message.Attributes<IfAddrMsg>())
        {
            if (a.Type == Ifa.LOCAL) local = a.Address();
            else if (a.Type == Ifa.ADDRESS) address = a.Address();
        }
        // IFA_LOCAL is the interface's own address; IFA_ADDRESS is the peer on point-to-point links
        // (IPv6 sends only IFA_ADDRESS unless there is a peer).
        var own = local ?? address;
        return own is null ? null : new AddressState(header.Index, own, header.PrefixLength);
    }

    private static void Write(NetlinkMessageBuilder builder, ushort type, ushort flags, int linkIndex, IPAddress address, int prefixLength)
    {
        bool v6 = address.AddressFamily == AddressFamily.InterNetworkV6;
        builder.BeginMessage(type, flags).Struct(new IfAddrMsg
        {
            Family = v6 ? AddressFamilies.AF_INET6 : AddressFamilies.AF_INET,
            PrefixLength = (byte)prefixLength,
            Flags = v6 && type == Rtm.NEWADDR ? (byte)Ifa.F_NODAD : (byte)0,
            Scope = Rtm.RT_SCOPE_UNIVERSE,
            Index = linkIndex,
        });
        builder.Address(Ifa.LOCAL, address);
        builder.Address(Ifa.ADDRESS, address);
        if (v6 && type == Rtm.NEWADDR) builder.U32(Ifa.FLAGS, Ifa.F_NODAD);
        builder.EndMessage();
    }
}
