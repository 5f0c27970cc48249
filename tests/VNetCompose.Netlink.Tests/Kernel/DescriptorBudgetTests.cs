using VNetCompose.Kernel;
using VNetCompose.TestSupport;

namespace VNetCompose.Netlink.Tests.Kernel;

/// <summary>
/// The driver holds a bounded set of namespaces open (each costs its descriptor and up to two sockets), so a lab
/// of any size works within a small descriptor limit: with a budget of 8, creating, observing (veth peers
/// resolved across parts) and changing 40 namespaces holds at most 8 open, and sees what an unbounded driver sees.
/// </summary>
// It counts every descriptor of the test process: no other test may open or close any meanwhile.
[Collection(nameof(ProcessResources))]
public sealed class DescriptorBudgetTests : KernelTestBase
{
    private const int Hosts = 40;
    private const int Budget = 8;

    private static int OpenDescriptors() => Directory.GetFileSystemEntries("/proc/self/fd").Length;

    [Fact]
    public void ALabOfFortyNamespaces_WorksWithEightOpen_AndIsObservedAsByAnUnboundedDriver()
    {
        using var bounded = new NetlinkKernel(openBudget: Budget);
        int before = OpenDescriptors();
        string sw = Sandbox.Name("sw");
        bounded.CreateNamespace(sw);
        bounded.CreateBridge(Ns(sw), new BridgeRequest("br0"));
        var hosts = Enumerable.Range(1, Hosts).Select(i => Sandbox.Name($"h{i}")).ToList();
        foreach (var (host, i) in hosts.Select((h, i) => (h, i)))
        {
            bounded.CreateNamespace(host);
            bounded.CreateVeth(new VethEndRequest(Ns(host), "eth0"), new VethEndRequest(Ns(sw), $"p{i}"));
            bounded.UpdateLink(Ns(sw), $"p{i}", new LinkUpdate(Master: "br0", Up: true));
            bounded.OpenNamespaces.Should().BeLessThanOrEqualTo(Budget);
        }
        var all = hosts.Append(sw).Select(Ns).ToList();
        var seen = bounded.Observe(all);
        bounded.OpenNamespaces.Should().BeLessThanOrEqualTo(Budget);
        // Descriptors: at most the budget's worth (namespace, rtnetlink and nf_tables socket each), and some slack
        // for the runtime's own (this test process loads assemblies as it goes).
        (OpenDescriptors() - before).Should().BeLessThanOrEqualTo(Budget * 3 + 12);

        var expected = Kernel.Observe(all); // the unbounded driver of the test base
        foreach (var id in all)
        {
            seen[id].Links.Select(l => (l.Name, l.Index, l.Peer)).Should().Equal(expected[id].Links.Select(l => (l.Name, l.Index, l.Peer)), id.Name);
        }
        seen[Ns(sw)].Links.Where(l => l.Peer is not null).Select(l => l.Peer!.Namespace).Should()
            .BeEquivalentTo(hosts.Select(Ns), "every switch port's peer is resolved to its host across the parts");

        foreach (var host in hosts) bounded.DeleteNamespace(host);
        bounded.DeleteNamespace(sw);
    }
}
