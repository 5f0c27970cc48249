using System.Net;
using System.Net.Sockets;
using VNetCompose.Kernel;
using static VNetCompose.Netlink.Tests.Nftables.RoutedLab;

namespace VNetCompose.Netlink.Tests.Nftables;

/// <summary>
/// Real TCP traffic through the router of a <see cref="RoutedLab"/>, NAT programmed by the driver:
/// the server reports the peer address it sees, so each translation is observed where it matters.
/// </summary>
public sealed class NatTrafficTests : IDisposable
{
    private const string Table = "vnet-lab";
    private readonly RoutedLab _lab = new();
    private readonly NetlinkKernel _kernel = new();

    public void Dispose()
    {
        _kernel.Dispose();
        _lab.Dispose();
    }

    private static NatRuleState MasqueradeLanOutWan(string lan) => new(NatChain.Postrouting, NatVerdictKind.Masquerade,
        Source: IPNetwork.Parse(lan), OutInterface: new NatInterface("r-wan", Negated: false));

    [Theory]
    [InlineData("10.1.0.0/24", "10.2.0.2", "10.1.0.2", "10.2.0.1")]
    [InlineData("fd01::/64", "fd02::2", "fd01::2", "fd02::1")]
    public void Masquerade_ServerSeesTheRoutersWanAddress_UntilTheTableIsDeleted(string lan, string serverAddress, string client, string routerWan)
    {
        var serverIp = IPAddress.Parse(serverAddress);
        using var server = Listen(_lab.Server, serverIp, 80);
        Connect(_lab.Client, serverIp, 80).ServerSawPeer.Should().Be(client);

        _kernel.ReplaceNatTable(_lab.RouterId, new NatTableState(Table, [MasqueradeLanOutWan(lan)]));
        Connect(_lab.Client, serverIp, 80).ServerSawPeer.Should().Be(routerWan);

        _kernel.DeleteNatTable(_lab.RouterId, Table);
        Connect(_lab.Client, serverIp, 80).ServerSawPeer.Should().Be(client);
    }

    [Fact]
    public void Masquerade_OfAnotherSource_LeavesTheClientUntranslated()
    {
        using var server = Listen(_lab.Server, ServerAddress, 80);

        _kernel.ReplaceNatTable(_lab.RouterId, new NatTableState(Table, [MasqueradeLanOutWan("10.99.0.0/16")]));

        Connect(_lab.Client, ServerAddress, 80).ServerSawPeer.Should().Be(ClientAddress.ToString());
    }

    [Fact]
    public void Snat_ServerSeesTheConfiguredAddress_UntilTheRuleIsReplacedAway()
    {
        _lab.AddRouterAddress("r-wan", IPAddress.Parse("10.2.0.100"), 32);
        using var server = Listen(_lab.Server, ServerAddress, 80);
        var snat = new NatRuleState(NatChain.Postrouting, NatVerdictKind.Snat, Source: IPNetwork.Parse("10.1.0.0/24"),
            OutInterface: new NatInterface("r-wan", Negated: false), ToAddress: IPAddress.Parse("10.2.0.100"));

        _kernel.ReplaceNatTable(_lab.RouterId, new NatTableState(Table, [snat]));
        Connect(_lab.Client, ServerAddress, 80).ServerSawPeer.Should().Be("10.2.0.100");

        _kernel.ReplaceNatTable(_lab.RouterId, new NatTableState(Table, []));
        Connect(_lab.Client, ServerAddress, 80).ServerSawPeer.Should().Be(ClientAddress.ToString());
    }

    [Fact]
    public void PortForward_ClientReachesTheServerThroughTheRoutersPort_UntilTheTableIsDeleted()
    {
        using var server = Listen(_lab.Server, ServerAddress, 80);
        var forward = new NatRuleState(NatChain.Prerouting, NatVerdictKind.Dnat, InInterface: new NatInterface("r-lan", Negated: false),
            L4Protocol: 6, DestinationPort: 8080, ToAddress: ServerAddress, ToPort: 80);
        Connect(_lab.Client, RouterLanAddress, 8080).Error.Should().Be(SocketError.ConnectionRefused);

        _kernel.ReplaceNatTable(_lab.RouterId, new NatTableState(Table, [forward]));
        Connect(_lab.Client, RouterLanAddress, 8080).ServerSawPeer.Should().Be(ClientAddress.ToString());

        _kernel.DeleteNatTable(_lab.RouterId, Table);
        Connect(_lab.Client, RouterLanAddress, 8080).Error.Should().Be(SocketError.ConnectionRefused);
    }

    [Fact]
    public void PortForward_InTheOutputChain_ForwardsTheRoutersOwnConnections()
    {
        using var server = Listen(_lab.Server, ServerAddress, 80);
        var forward = new NatRuleState(NatChain.Prerouting, NatVerdictKind.Dnat, L4Protocol: 6, DestinationPort: 8080,
            Destination: IPNetwork.Parse("10.1.0.1/32"), ToAddress: ServerAddress, ToPort: 80);

        _kernel.ReplaceNatTable(_lab.RouterId, new NatTableState(Table, [forward]));
        Connect(_lab.Router, RouterLanAddress, 8080).Error.Should().Be(SocketError.ConnectionRefused,
            "prerouting does not see locally generated packets");

        _kernel.ReplaceNatTable(_lab.RouterId, new NatTableState(Table, [forward, forward with { Chain = NatChain.Output }]));
        Connect(_lab.Router, RouterLanAddress, 8080).ServerSawPeer.Should().Be(RouterLanAddress.ToString());
    }

    [Fact]
    public void Ipv4Masquerade_DoesNotTranslateIpv6()
    {
        using var server = Listen(_lab.Server, ServerAddress6, 80);

        _kernel.ReplaceNatTable(_lab.RouterId, new NatTableState(Table, [MasqueradeLanOutWan("10.1.0.0/24")]));

        Connect(_lab.Client, ServerAddress6, 80).ServerSawPeer.Should().Be(ClientAddress6.ToString());
    }
}
