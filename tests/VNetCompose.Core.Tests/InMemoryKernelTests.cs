using VNetCompose.Kernel.Links;
using VNetCompose.Kernel.Links.Kinds;
using VNetCompose.TestSupport;
using System.Net;
using VNetCompose.Testing;
using VNetCompose.Kernel;

namespace VNetCompose.Core.Tests;

public sealed class InMemoryKernelTests
{
    private static readonly NetnsId A = NetnsId.Named("a"), B = NetnsId.Named("b");

    private static InMemoryKernel TwoNamespaces()
    {
        var kernel = new InMemoryKernel();
        kernel.CreateNamespace("a");
        kernel.CreateNamespace("b");
        return kernel;
    }

    [Fact]
    public void NewNamespace_HoldsLoopbackIndexOneDown()
    {
        var kernel = TwoNamespaces();
        var lo = kernel.Observe([A])[A].Links.Should().ContainSingle().Subject;
        lo.Should().Match<LinkState>(l => l.Index == 1 && l.Name == "lo" && !l.AdminUp);
    }

    [Fact]
    public void Observe_LeavesAbsentNamespacesOut_AndABrokenOneIsEinval()
    {
        var kernel = TwoNamespaces();
        kernel.Observe([A, NetnsId.Named("gone")]).Keys.Should().Equal(A);
        kernel.CreateBrokenNamespace("half");
        var act = () => kernel.Observe([NetnsId.Named("half")]);
        act.Should().Throw<KernelException>().Which.Errno.Should().Be(Errnos.EINVAL);
        kernel.DeleteNamespace("half");
        kernel.ListNamespaces().Should().Equal("a", "b");
    }

    [Fact]
    public void DuplicateNamespace_IsEexistWithOperation()
    {
        var kernel = TwoNamespaces();
        var act = () => kernel.CreateNamespace("a");
        act.Should().Throw<KernelException>().Which.Message.Should().Be("creating namespace a: File exists (EEXIST)");
    }

    [Fact]
    public void DuplicateLinkName_IsEexistAndMissingLinkIsEnodev()
    {
        var kernel = TwoNamespaces();
        kernel.CreateBridge(A, new BridgeRequest("br0"));
        var duplicate = () => kernel.CreateVeth(new VethEndRequest(A, "br0"), new VethEndRequest(B, "x"));
        duplicate.Should().Throw<KernelException>().Which.Message.Should().Be("creating veth br0 in namespace a (peer x in namespace b): File exists (EEXIST)");
        var missing = () => kernel.DeleteLink(A, "nope");
        missing.Should().Throw<KernelException>().Which.Errno.Should().Be(Errnos.ENODEV);
        var noNamespace = () => kernel.CreateBridge(NetnsId.Named("zz"), new BridgeRequest("br1"));
        noNamespace.Should().Throw<KernelException>().Which.Errno.Should().Be(Errnos.ENOENT);
    }

    [Fact]
    public void DeletingOneVethEnd_RemovesThePeer()
    {
        var kernel = TwoNamespaces();
        kernel.CreateVeth(new VethEndRequest(A, "x"), new VethEndRequest(B, "y"));
        kernel.Observe([A, B])[A].FindLink("x")!.Peer.Should().Be(new IfLink(2, B));
        kernel.DeleteLink(A, "x");
        kernel.Observe([B])[B].FindLink("y").Should().BeNull();
    }

    [Fact]
    public void DeletingANamespace_RemovesPeersElsewhere_AfterTheConfiguredCleanupDelay()
    {
        var kernel = TwoNamespaces();
        kernel.NamespaceCleanupObservations = 2;
        kernel.CreateVeth(new VethEndRequest(A, "x"), new VethEndRequest(B, "y"));
        kernel.DeleteNamespace("a");
        kernel.Observe([B])[B].FindLink("y").Should().NotBeNull("cleanup is asynchronous");
        kernel.Observe([B])[B].FindLink("y").Should().BeNull();
    }

    [Fact]
    public void ConnectedRouteAndLinkLocal_ExistOnlyWhileTheLinkIsUp()
    {
        var kernel = TwoNamespaces();
        kernel.CreateBridge(A, new BridgeRequest("br0"));
        kernel.AddAddress(A, "br0", IPAddress.Parse("10.1.2.3"), 24);
        kernel.Observe([A])[A].Routes.Should().BeEmpty();
        kernel.UpdateLink(A, "br0", new LinkUpdate(Up: true));
        var snapshot = kernel.Observe([A])[A];
        snapshot.Routes.Should().ContainSingle(r => r.Protocol == RouteProtocols.Kernel && r.Destination.Equals(IPAddress.Parse("10.1.2.0")));
        snapshot.Addresses.Should().Contain(a => a.Address.IsIPv6LinkLocal);
    }

    [Fact]
    public void GatewayRoute_NeedsAReachableGateway()
    {
        var kernel = TwoNamespaces();
        var route = new RouteRequest(IPAddress.Any, 0, IPAddress.Parse("10.1.2.1"));
        var act = () => kernel.ReplaceRoute(A, route);
        act.Should().Throw<KernelException>().Which.Errno.Should().Be(Errnos.ENETUNREACH);
        kernel.CreateBridge(A, new BridgeRequest("br0"));
        kernel.AddAddress(A, "br0", IPAddress.Parse("10.1.2.3"), 24);
        kernel.UpdateLink(A, "br0", new LinkUpdate(Up: true));
        kernel.ReplaceRoute(A, route);
        kernel.Observe([A])[A].Routes.Should().Contain(r => r.Protocol == RouteProtocols.VNet && r.OutputIndex == 2);
    }

    [Fact]
    public void LastIPv4AddressDeleted_TakesTheIPv4RoutesThroughItsLink_AsTheKernelDoes()
    {
        var kernel = TwoNamespaces();
        kernel.CreateBridge(A, new BridgeRequest("br0"));
        kernel.AddAddress(A, "br0", IPAddress.Parse("10.1.2.3"), 24);
        kernel.AddAddress(A, "br0", IPAddress.Parse("10.1.3.3"), 24);
        kernel.UpdateLink(A, "br0", new LinkUpdate(Up: true));
        kernel.ReplaceRoute(A, new RouteRequest(IPAddress.Any, 0, IPAddress.Parse("10.1.2.1")));

        kernel.DeleteAddress(A, "br0", IPAddress.Parse("10.1.3.3"), 24);
        kernel.Observe([A])[A].Routes.Should().Contain(r => r.PrefixLength == 0, "another IPv4 address is left");
        kernel.DeleteAddress(A, "br0", IPAddress.Parse("10.1.2.3"), 24);
        kernel.Observe([A])[A].Routes.Should().BeEmpty("fib_disable_ip flushes the link's IPv4 routes with its last address");
    }

    [Fact]
    public void LinkGoingDown_LosesItsIPv6Addresses_ButOnesAddedWhileDownStayUntilItWasUp()
    {
        var kernel = TwoNamespaces();
        kernel.CreateBridge(A, new BridgeRequest("br0"));
        kernel.AddAddress(A, "br0", IPAddress.Parse("fd00::1"), 64);
        kernel.AddAddress(A, "br0", IPAddress.Parse("10.1.2.3"), 24);
        kernel.UpdateLink(A, "br0", new LinkUpdate(Up: false));
        kernel.Observe([A])[A].Addresses.Should().Contain(a => a.Address.Equals(IPAddress.Parse("fd00::1")));

        kernel.UpdateLink(A, "br0", new LinkUpdate(Up: true));
        kernel.UpdateLink(A, "br0", new LinkUpdate(Up: false));
        kernel.Observe([A])[A].Addresses.Select(a => a.Address.ToString()).Should().Equal("10.1.2.3");
    }

    [Fact]
    public void FaultInjection_FailsTheChosenWriteAndCountsWrites()
    {
        var kernel = TwoNamespaces();
        kernel.FailWrite(kernel.Writes + 2, Errnos.EBUSY);
        kernel.CreateBridge(A, new BridgeRequest("br0"));
        var act = () => kernel.CreateBridge(A, new BridgeRequest("br1"));
        act.Should().Throw<KernelException>().Which.IsTransient.Should().BeTrue();
        kernel.CreateBridge(A, new BridgeRequest("br1"));
        kernel.Writes.Should().Be(5);
    }

    [Fact]
    public void VlanFiltering_IsRefusedWhereTheKernelLacksIt_AndCreatedWhereItHasIt()
    {
        var kernel = TwoNamespaces();
        kernel.VlanFilteringSupported = false;
        var act = () => kernel.CreateBridge(A, new BridgeRequest("br0", VlanFiltering: true));
        act.Should().Throw<KernelException>().Which.Errno.Should().Be(Errnos.EOPNOTSUPP);
        kernel.ProbeLinkSupport(new BridgeData(VlanFiltering: true)).Should().Be("Operation not supported");

        kernel.VlanFilteringSupported = true;
        kernel.CreateBridge(A, new BridgeRequest("br0", VlanFiltering: true));
        kernel.Observe([A])[A].FindLink("br0")!.Data.Should().Be(new BridgeData(VlanFiltering: true));
    }
}
