using System.Net;
using VNetCompose.Kernel;
using VNetCompose.TestSupport;

namespace VNetCompose.Netlink.Tests.Kernel;

public sealed class AddressAndRouteTests : KernelTestBase
{
    private string CreateNamespaceWithUpBridge(string shortName)
    {
        string ns = Sandbox.Create(shortName);
        Kernel.CreateBridge(Ns(ns), new BridgeRequest("br0"));
        Kernel.UpdateLink(Ns(ns), "br0", new LinkUpdate(Up: true));
        return ns;
    }

    [Fact]
    public void AddAddress_IPv4AndIPv6_AreInstalled_IPv6WithoutDad()
    {
        string ns = CreateNamespaceWithUpBridge("addr");

        Kernel.AddAddress(Ns(ns), "br0", IPAddress.Parse("172.17.0.1"), 16);
        Kernel.AddAddress(Ns(ns), "br0", IPAddress.Parse("fd00::1"), 64);

        var addresses = Oracle.Addresses(ns).Where(a => a.Link == "br0" && a.Scope == "global").ToList();
        addresses.Select(a => $"{a.Address}/{a.PrefixLength}").Should().BeEquivalentTo("172.17.0.1/16", "fd00::1/64");
        addresses.Single(a => a.Family == "inet6").NoDad.Should().BeTrue("the contract says addresses are usable at once");
        Observe(ns).Addresses.Should().Contain(new AddressState(Oracle.Link(ns, "br0")!.Index, IPAddress.Parse("fd00::1"), 64));
        ShouldMatchOracle(ns);
    }

    [Fact]
    public void DeleteAddress_RemovesIt_AndDeletingItAgainFails()
    {
        string ns = CreateNamespaceWithUpBridge("deladdr");
        var address = IPAddress.Parse("10.1.0.1");
        Kernel.AddAddress(Ns(ns), "br0", address, 24);

        Kernel.DeleteAddress(Ns(ns), "br0", address, 24);

        Oracle.Addresses(ns).Should().NotContain(a => a.Address.Equals(address));
        var error = Refusal(() => Kernel.DeleteAddress(Ns(ns), "br0", address, 24));
        error.Errno.Should().Be(Errnos.EADDRNOTAVAIL);
        error.Operation.Should().Be($"deleting address 10.1.0.1/24 from br0 in namespace {ns}");
    }

    [Fact]
    public void AddAddress_Twice_FailsWithEexist()
    {
        string ns = CreateNamespaceWithUpBridge("dupaddr");
        Kernel.AddAddress(Ns(ns), "br0", IPAddress.Parse("10.1.0.1"), 24);

        var error = Refusal(() => Kernel.AddAddress(Ns(ns), "br0", IPAddress.Parse("10.1.0.1"), 24));

        error.Errno.Should().Be(Errnos.EEXIST);
        error.Message.Should().StartWith($"adding address 10.1.0.1/24 to br0 in namespace {ns}: File exists (EEXIST)");
    }

    [Fact]
    public void ReplaceRoute_DefaultAndPrefixRoutes_BothFamilies_CarryTheVNetProtocolAndMetric()
    {
        string ns = CreateNamespaceWithUpBridge("routes");
        Kernel.AddAddress(Ns(ns), "br0", IPAddress.Parse("10.1.0.1"), 24);
        Kernel.AddAddress(Ns(ns), "br0", IPAddress.Parse("fd00::1"), 64);

        Kernel.ReplaceRoute(Ns(ns), new RouteRequest(IPAddress.Any, 0, Gateway: IPAddress.Parse("10.1.0.254"), Metric: 100));
        Kernel.ReplaceRoute(Ns(ns), new RouteRequest(IPAddress.Parse("10.9.0.0"), 16, Device: "br0"));
        Kernel.ReplaceRoute(Ns(ns), new RouteRequest(IPAddress.IPv6Any, 0, Gateway: IPAddress.Parse("fd00::fe"), Device: "br0"));
        Kernel.ReplaceRoute(Ns(ns), new RouteRequest(IPAddress.Parse("fd09::"), 48, Gateway: IPAddress.Parse("fd00::fe"), Metric: 50));

        var routes = Oracle.Routes(ns).Where(r => r.Protocol == "86").Select(r =>
            $"{r.Destination}/{r.PrefixLength} via {r.Gateway} dev {r.Device} metric {r.Metric} scope {r.Scope}").ToList();
        routes.Should().BeEquivalentTo(
            "0.0.0.0/0 via 10.1.0.254 dev br0 metric 100 scope ",
            "10.9.0.0/16 via  dev br0 metric  scope link",
            "::/0 via fd00::fe dev br0 metric 1024 scope ",
            "fd09::/48 via fd00::fe dev br0 metric 50 scope ");
        Observe(ns).Routes.Where(r => r.Protocol == RouteProtocols.VNet).Should().HaveCount(4);
        ShouldMatchOracle(ns);
    }

    [Fact]
    public void ReplaceRoute_Again_ReplacesInsteadOfAdding()
    {
        string ns = CreateNamespaceWithUpBridge("replace");
        Kernel.AddAddress(Ns(ns), "br0", IPAddress.Parse("10.1.0.1"), 24);
        Kernel.ReplaceRoute(Ns(ns), new RouteRequest(IPAddress.Any, 0, Gateway: IPAddress.Parse("10.1.0.254")));

        Kernel.ReplaceRoute(Ns(ns), new RouteRequest(IPAddress.Any, 0, Gateway: IPAddress.Parse("10.1.0.253")));

        Oracle.Routes(ns).Where(r => r.PrefixLength == 0 && r.Destination.Equals(IPAddress.Any))
            .Select(r => r.Gateway!.ToString()).Should().Equal("10.1.0.253");
    }

    [Fact]
    public void DeleteRoute_RemovesOnlyThatRoute()
    {
        string ns = CreateNamespaceWithUpBridge("delroute");
        Kernel.AddAddress(Ns(ns), "br0", IPAddress.Parse("10.1.0.1"), 24);
        var route = new RouteRequest(IPAddress.Parse("10.9.0.0"), 16, Gateway: IPAddress.Parse("10.1.0.254"));
        Kernel.ReplaceRoute(Ns(ns), route);
        Kernel.ReplaceRoute(Ns(ns), route with { Destination = IPAddress.Parse("10.8.0.0") });

        Kernel.DeleteRoute(Ns(ns), route);

        Oracle.Routes(ns).Where(r => r.Protocol == "86").Select(r => $"{r.Destination}/{r.PrefixLength}").Should().Equal("10.8.0.0/16");
        var error = Refusal(() => Kernel.DeleteRoute(Ns(ns), route));
        error.Errno.Should().Be(Errnos.ESRCH);
        error.Operation.Should().Be($"deleting route 10.9.0.0/16 via 10.1.0.254 in namespace {ns}");
    }

    [Fact]
    public void ReplaceRoute_ViaAnUnreachableGateway_IsRefusedWithTheKernelsExplanation()
    {
        string ns = CreateNamespaceWithUpBridge("unreach");

        var error = Refusal(() => Kernel.ReplaceRoute(Ns(ns), new RouteRequest(IPAddress.Any, 0, Gateway: IPAddress.Parse("192.0.2.1"))));

        error.Errno.Should().Be(Errnos.ENETUNREACH);
        error.KernelMessage.Should().NotBeNullOrEmpty();
        error.Message.Should().StartWith($"replacing route default via 192.0.2.1 in namespace {ns}: Network is unreachable (ENETUNREACH): ");
    }

    [Fact]
    public void AddAddress_WithAnImpossiblePrefix_IsRefusedBeforeReachingTheKernel()
    {
        string ns = CreateNamespaceWithUpBridge("prefix");

        var error = Refusal(() => Kernel.AddAddress(Ns(ns), "br0", IPAddress.Parse("10.0.0.1"), 33));

        error.Errno.Should().Be(Errnos.EINVAL);
        error.KernelMessage.Should().Be("prefix length 33 is outside 0..32");
    }
}
