using System.Net;
using System.Net.Sockets;
using VNetCompose.Kernel;
using VNetCompose.Netlink.Interop;
using VNetCompose.Netlink.Wire;

namespace VNetCompose.Netlink.Rtnetlink;

/// <summary>RTM_NEWROUTE / RTM_DELROUTE / RTM_GETROUTE for the main table (net/ipv4/fib_frontend.c, net/ipv6/route.c).</summary>
internal static class RouteMessages
{
    /// <summary><c>ip route replace DST/P [via GW] [dev D] [metric M] proto P</c></summary>
    public static void Replace(NetlinkMessageBuilder builder, RouteRequest route, int outputIndex) =>
        Write(builder, Rtm.NEWROUTE, Nl.NLM_F_CREATE | Nl.NLM_F_REPLACE, route, outputIndex);

    /// <summary><c>ip route del DST/P [via GW] [dev D] [metric M] proto P</c>: any scope matches.</summary>
    public static void Delete(NetlinkMessageBuilder builder, RouteRequest route, int outputIndex) =>
        Write(builder, Rtm.DELROUTE, 0, route, outputIndex);

    /// <summary><c>ip route show table all</c>, both families; <see cref="Parse"/> keeps the main table.</summary>
    public static void Dump(NetlinkMessageBuilder builder) =>
        builder.BeginMessage(Rtm.GETROUTE, 0).Struct(new RtMsg()).EndMessage();

    /// <summary>A main-table IPv4/IPv6 route, or null for anything else.</summary>
    public static RouteState? Parse(NetlinkMessage message)
    {
        var header = message.ReadStruct<RtMsg>();
        if (header.Family is not (AddressFamilies.AF_INET or AddressFamilies.AF_INET6)) return null;
        uint table = header.Table;
        IPAddress? destination = null, gateway = null;
        int outputIndex = 0;
        int? metric = null;
        foreach (var a in message.Attributes<RtMsg>())
        {
            switch (a.Type)
            {
                case Rta.TABLE: table = a.U32(); break;
                case Rta.DST: destination = a.Address(); break;
                case Rta.GATEWAY: gateway = a.Address(); break;
                case Rta.OIF: outputIndex = (int)a.U32(); break;
                case Rta.PRIORITY: metric = (int)a.U32(); break;
            }
        }
        if (table != Rtm.RT_TABLE_MAIN) return null;
        destination ??= header.Family == AddressFamilies.AF_INET ? IPAddress.Any : IPAddress.IPv6Any;
        return new RouteState(destination, header.DestinationLength, gateway, outputIndex, metric,
            header.Protocol, header.Scope, header.Type);
    }

    private static void Write(NetlinkMessageBuilder builder, ushort type, ushort flags, RouteRequest route, int outputIndex)
    {
        bool v4 = route.Destination.AddressFamily == AddressFamily.InterNetwork;
        bool delete = type == Rtm.DELROUTE;
        builder.BeginMessage(type, flags).Struct(new RtMsg
        {
            Family = v4 ? AddressFamilies.AF_INET : AddressFamilies.AF_INET6,
            DestinationLength = (byte)route.PrefixLength,
            Table = Rtm.RT_TABLE_MAIN,
            Protocol = route.Protocol,
            // iproute2: a gateway-less IPv4 route is on-link (scope link); deleting matches any scope.
            Scope = delete ? Rtm.RT_SCOPE_NOWHERE
                : v4 && route.Gateway is null ? Rtm.RT_SCOPE_LINK : Rtm.RT_SCOPE_UNIVERSE,
            Type = delete ? (byte)0 : Rtm.RTN_UNICAST,
        });
        if (route.PrefixLength > 0) builder.Address(Rta.DST, route.Destination);
        if (route.Gateway is { } gateway) builder.Address(Rta.GATEWAY, gateway);
        if (outputIndex > 0) builder.U32(Rta.OIF, (uint)outputIndex);
        if (route.Metric is { } metric) builder.U32(Rta.PRIORITY, unchecked((uint)metric));
        builder.U32(Rta.TABLE, Rtm.RT_TABLE_MAIN);
        builder.EndMessage();
    }
}
