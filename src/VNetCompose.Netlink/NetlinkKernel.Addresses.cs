using System.Net;
using System.Net.Sockets;
using VNetCompose.Kernel;
using VNetCompose.Netlink.Rtnetlink;
using VNetCompose.Netlink.Wire;

namespace VNetCompose.Netlink;

public sealed partial class NetlinkKernel
{
    /// <summary>Equivalent to: <c>ip addr add ADDRESS/PREFIX dev LINK</c> (<c>nodad</c> for IPv6). EEXIST if present.</summary>
    public void AddAddress(NetnsId ns, string link, IPAddress address, int prefixLength)
    {
        string operation = $"adding address {address}/{prefixLength} to {link} in {In(ns)}";
        ChangeAddress(ns, link, address, prefixLength, operation, AddressMessages.Add);
    }

    /// <summary>Equivalent to: <c>ip addr del ADDRESS/PREFIX dev LINK</c>. EADDRNOTAVAIL if absent.</summary>
    public void DeleteAddress(NetnsId ns, string link, IPAddress address, int prefixLength)
    {
        string operation = $"deleting address {address}/{prefixLength} from {link} in {In(ns)}";
        ChangeAddress(ns, link, address, prefixLength, operation, AddressMessages.Delete);
    }

    /// <summary>Equivalent to: <c>ip route replace DESTINATION [via GATEWAY] [dev DEVICE] [metric M] proto P</c>.</summary>
    public void ReplaceRoute(NetnsId ns, RouteRequest route)
    {
        string operation = $"replacing route {DescribeRoute(route)} in {In(ns)}";
        ChangeRoute(ns, route, operation, RouteMessages.Replace);
    }

    /// <summary>Equivalent to: <c>ip route del DESTINATION [via GATEWAY] [dev DEVICE] [metric M] proto P</c>. ESRCH if absent.</summary>
    public void DeleteRoute(NetnsId ns, RouteRequest route)
    {
        string operation = $"deleting route {DescribeRoute(route)} in {In(ns)}";
        ChangeRoute(ns, route, operation, RouteMessages.Delete);
    }

    private void ChangeAddress(NetnsId ns, string link, IPAddress address, int prefixLength, string operation,
        Action<NetlinkMessageBuilder, int, IPAddress, int> write)
    {
        ValidatePrefix(address, prefixLength, operation);
        var socket = RouteSocket(Namespace(ns, operation));
        int index = ResolveIndex(socket, link, operation);
        var request = new NetlinkMessageBuilder(128);
        write(request, index, address, prefixLength);
        socket.Execute(request, operation);
    }

    private void ChangeRoute(NetnsId ns, RouteRequest route, string operation, Action<NetlinkMessageBuilder, RouteRequest, int> write)
    {
        ValidatePrefix(route.Destination, route.PrefixLength, operation);
        if (route.Gateway is { } gateway && gateway.AddressFamily != route.Destination.AddressFamily)
        {
            throw new KernelException(Errnos.EINVAL, operation, $"gateway {gateway} is not of the destination's address family");
        }
        var socket = RouteSocket(Namespace(ns, operation));
        int outputIndex = route.Device is null ? 0 : ResolveIndex(socket, route.Device, operation);
        var request = new NetlinkMessageBuilder(128);
        write(request, route, outputIndex);
        socket.Execute(request, operation);
    }

    private static void ValidatePrefix(IPAddress address, int prefixLength, string operation)
    {
        int max = address.AddressFamily switch
        {
            AddressFamily.InterNetwork => 32,
            AddressFamily.InterNetworkV6 => 128,
            _ => throw new KernelException(Errnos.EAFNOSUPPORT, operation, $"{address} is neither IPv4 nor IPv6"),
        };
        if (prefixLength < 0 || prefixLength > max)
        {
            throw new KernelException(Errnos.EINVAL, operation, $"prefix length {prefixLength} is outside 0..{max}");
        }
    }

    private static string DescribeRoute(RouteRequest route) =>
        (route.PrefixLength == 0 ? "default" : $"{route.Destination}/{route.PrefixLength}")
        + (route.Gateway is null ? "" : $" via {route.Gateway}")
        + (route.Device is null ? "" : $" dev {route.Device}")
        + (route.Metric is null ? "" : $" metric {route.Metric}");
}
