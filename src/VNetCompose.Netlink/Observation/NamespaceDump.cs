using VNetCompose.Kernel;
using VNetCompose.Netlink.Interop;
using VNetCompose.Netlink.Namespaces;
using VNetCompose.Netlink.Rtnetlink;
using VNetCompose.Netlink.Wire;

namespace VNetCompose.Netlink.Observation;

/// <summary>One namespace read with exactly one dump per object class: links, addresses, routes.</summary>
internal sealed record NamespaceDump(
    NamespaceHandle Handle,
    IReadOnlyList<ParsedLink> Links,
    IReadOnlyList<AddressState> Addresses,
    IReadOnlyList<RouteState> Routes)
{
    /// <summary>How often a dump the kernel marked interrupted (NLM_F_DUMP_INTR) is read again.</summary>
    private const int InterruptedDumpAttempts = 3;

    public static NamespaceDump Read(NamespaceHandle handle)
    {
        var socket = handle.Socket(NetlinkProtocol.Route);
        string operation = $"observing {handle.Description}";
        var request = new NetlinkMessageBuilder(64);

        var links = DumpAll(socket, request, LinkMessages.Dump, $"{operation}: dumping links", LinkParser.Parse);
        var addresses = DumpAll(socket, request, AddressMessages.Dump, $"{operation}: dumping addresses", AddressMessages.Parse);
        var routes = DumpAll(socket, request, RouteMessages.Dump, $"{operation}: dumping routes", RouteMessages.Parse);
        return new NamespaceDump(handle, links, addresses, routes);
    }

    private delegate T? Parser<T>(NetlinkMessage message);

    private static List<T> DumpAll<T>(NetlinkSocket socket, NetlinkMessageBuilder request, Action<NetlinkMessageBuilder> write,
        string operation, Parser<T> parse) where T : class
    {
        for (int attempt = 1; ; attempt++)
        {
            var items = new List<T>();
            request.Reset();
            write(request);
            try
            {
                socket.Dump(request, operation, message =>
                {
                    if (parse(message) is { } item) items.Add(item);
                });
                return items;
            }
            catch (KernelException e) when (e.Errno == Errnos.EINTR && attempt < InterruptedDumpAttempts)
            {
                // The set changed while it was dumped: read it again.
            }
        }
    }
}
