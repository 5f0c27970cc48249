using System.Net;
using VNetCompose.Kernel;
using VNetCompose.TestSupport;

namespace VNetCompose.Netlink.Tests.Nftables;

/// <summary>
/// <c>client</c> — <c>router</c> — <c>server</c> in sandbox namespaces (created with <c>ip netns add</c>, so the
/// sandbox removes them in every outcome), wired by the driver's link, address, route and sysctl calls:
/// <code>
/// client c0 10.1.0.2/24 fd01::2/64 ── r-lan 10.1.0.1/24 fd01::1/64 [router] r-wan 10.2.0.1/24 fd02::1/64 ── s0 10.2.0.2/24 fd02::2/64 server
/// </code>
/// Client and server route everything through the router, which forwards both families, so without
/// NAT the server sees the client's own address and answers it.
/// </summary>
internal sealed class RoutedLab : IDisposable
{
    public static readonly IPAddress ClientAddress = IPAddress.Parse("10.1.0.2");
    public static readonly IPAddress RouterLanAddress = IPAddress.Parse("10.1.0.1");
    public static readonly IPAddress RouterWanAddress = IPAddress.Parse("10.2.0.1");
    public static readonly IPAddress ServerAddress = IPAddress.Parse("10.2.0.2");
    public static readonly IPAddress ClientAddress6 = IPAddress.Parse("fd01::2");
    public static readonly IPAddress ServerAddress6 = IPAddress.Parse("fd02::2");

    private readonly SandboxNamespaces _sandbox = new();
    private readonly NetlinkKernel _setup = new();

    public RoutedLab()
    {
        try
        {
            Client = _sandbox.Create("client");
            Router = _sandbox.Create("router");
            Server = _sandbox.Create("server");
            _setup.CreateVeth(new VethEndRequest(RouterId, "r-lan"), new VethEndRequest(NetnsId.Named(Client), "c0"));
            _setup.CreateVeth(new VethEndRequest(RouterId, "r-wan"), new VethEndRequest(NetnsId.Named(Server), "s0"));
            Configure(Client, "c0", ClientAddress, ClientAddress6, 24);
            Configure(Router, "r-lan", RouterLanAddress, IPAddress.Parse("fd01::1"), 24);
            Configure(Router, "r-wan", RouterWanAddress, IPAddress.Parse("fd02::1"), 24);
            Configure(Server, "s0", ServerAddress, ServerAddress6, 24);
            DefaultRoutes(Client, RouterLanAddress, IPAddress.Parse("fd01::1"));
            DefaultRoutes(Server, RouterWanAddress, IPAddress.Parse("fd02::1"));
            _setup.WriteSysctl(RouterId, "net.ipv4.ip_forward", "1");
            _setup.WriteSysctl(RouterId, "net.ipv6.conf.all.forwarding", "1");
            if (!Ping.Between(Client, ServerAddress.ToString())) throw new InvalidOperationException("the lab does not route: client cannot ping server");
            // IPv6 neighbour discovery through the router settles on its own schedule (seen flaking under load):
            // wait for it here rather than let the first IPv6 connection of a test race it.
            if (!Ping.Between(Client, ServerAddress6.ToString())) throw new InvalidOperationException("the lab does not route IPv6: client cannot ping server");
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string Client { get; } = "";
    public string Router { get; } = "";
    public string Server { get; } = "";

    public NetnsId RouterId => NetnsId.Named(Router);

    /// <summary>Adds an extra address to a router interface (an snat address the router must answer ARP for).</summary>
    public void AddRouterAddress(string link, IPAddress address, int prefixLength) =>
        _setup.AddAddress(RouterId, link, address, prefixLength);

    /// <summary>Starts a TCP server in <paramref name="ns"/> that tells each client the peer address it sees.</summary>
    public static PeerReportingServer Listen(string ns, IPAddress address, int port) => new(ns, new IPEndPoint(address, port));

    /// <summary>Connects from <paramref name="ns"/> and reads what the server says; bounded by a few seconds.</summary>
    public static ConnectionOutcome Connect(string ns, IPAddress address, int port) =>
        PeerReportingServer.Ask(ns, new IPEndPoint(address, port));

    private void Configure(string ns, string link, IPAddress ipv4, IPAddress ipv6, int ipv4Prefix)
    {
        var id = NetnsId.Named(ns);
        _setup.AddAddress(id, link, ipv4, ipv4Prefix);
        _setup.AddAddress(id, link, ipv6, 64); // IPv6 without duplicate address detection: usable at once
        _setup.UpdateLink(id, link, new LinkUpdate(Up: true));
        _setup.UpdateLink(id, "lo", new LinkUpdate(Up: true));
    }

    private void DefaultRoutes(string ns, IPAddress gateway, IPAddress gateway6)
    {
        _setup.ReplaceRoute(NetnsId.Named(ns), new RouteRequest(IPAddress.Any, 0, gateway));
        _setup.ReplaceRoute(NetnsId.Named(ns), new RouteRequest(IPAddress.IPv6Any, 0, gateway6));
    }

    public void Dispose()
    {
        _setup.Dispose(); // its sockets would keep the namespaces alive
        _sandbox.Dispose();
    }
}
