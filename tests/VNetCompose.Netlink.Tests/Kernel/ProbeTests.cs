using VNetCompose.Kernel.Links.Kinds;
using VNetCompose.TestSupport;

namespace VNetCompose.Netlink.Tests.Kernel;

/// <summary>Kernel features are asked for, never assumed: the probe agrees with what iproute2 gets from the same kernel.</summary>
public sealed class ProbeTests : KernelTestBase
{
    [Fact]
    public void VlanFilteringProbe_AgreesWithIproute2_AndChangesNothingVisible()
    {
        string ns = Sandbox.Create("probe");
        var before = ProcessRunner.RunChecked("ip", "-n", ns, "-j", "link", "show");
        string thread = File.ResolveLinkTarget("/proc/thread-self/ns/net", false)!.FullName;

        string? answer = Kernel.ProbeLinkSupport(new BridgeData(VlanFiltering: true));

        var ip = ProcessRunner.Run("ip", "-n", ns, "link", "add", "br0", "type", "bridge", "vlan_filtering", "1");
        if (ip.ExitCode == 0) answer.Should().BeNull("iproute2 could create a vlan_filtering bridge here");
        else answer.Should().NotBeNull("iproute2 could not create a vlan_filtering bridge here: " + ip.StandardError);
        ProcessRunner.RunChecked("ip", "-n", ns, "-j", "link", "show").Should().Be(before, "the probe works in a namespace of its own");
        File.ResolveLinkTarget("/proc/thread-self/ns/net", false)!.FullName.Should().Be(thread, "the calling thread never moves");
        Kernel.ProbeLinkSupport(new BridgeData(VlanFiltering: true)).Should().Be(answer, "answers are cached");
    }
}
