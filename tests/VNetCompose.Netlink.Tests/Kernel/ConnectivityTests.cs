using System.Net;
using VNetCompose.Kernel;
using VNetCompose.TestSupport;

namespace VNetCompose.Netlink.Tests.Kernel;

public sealed class ConnectivityTests : KernelTestBase
{
    [Fact]
    public void VethBetweenTwoFreshNamespaces_Addressed_CarriesPingBothWaysAndBothFamilies()
    {
        string left = Sandbox.Create("pa"), right = Sandbox.Create("pb");
        Kernel.CreateVeth(new VethEndRequest(Ns(left), "eth0"), new VethEndRequest(Ns(right), "eth0"));
        Kernel.AddAddress(Ns(left), "eth0", IPAddress.Parse("10.200.0.1"), 24);
        Kernel.AddAddress(Ns(right), "eth0", IPAddress.Parse("10.200.0.2"), 24);
        Kernel.AddAddress(Ns(left), "eth0", IPAddress.Parse("fd00:200::1"), 64);
        Kernel.AddAddress(Ns(right), "eth0", IPAddress.Parse("fd00:200::2"), 64);
        Kernel.UpdateLink(Ns(left), "eth0", new LinkUpdate(Up: true));
        Kernel.UpdateLink(Ns(right), "eth0", new LinkUpdate(Up: true));

        Ping.Between(left, "10.200.0.2").Should().BeTrue();
        Ping.Between(right, "10.200.0.1").Should().BeTrue();
        Ping.Between(left, "fd00:200::2").Should().BeTrue("IPv6 addresses are added without DAD and usable at once");
        Ping.Between(left, "10.200.0.9", tries: 1).Should().BeFalse("the helper must be able to fail");
    }
}
