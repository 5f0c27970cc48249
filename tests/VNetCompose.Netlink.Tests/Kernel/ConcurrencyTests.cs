using VNetCompose.Kernel.Links;
using VNetCompose.Kernel.Links.Kinds;
using VNetCompose.Kernel;
using VNetCompose.TestSupport;

namespace VNetCompose.Netlink.Tests.Kernel;

public sealed class ConcurrencyTests : KernelTestBase
{
    [Fact]
    public void ParallelCalls_IntoOneNamespace_ShareItsSocketSafely()
    {
        string ns = Sandbox.Create("par");

        Parallel.For(0, 24, i => Kernel.CreateBridge(Ns(ns), new BridgeRequest($"pb{i}", Alias: $"n{i}")));

        var bridges = Oracle.Links(ns).Where(l => l.Kind == "bridge").ToList();
        bridges.Select(l => (l.Name, l.Alias)).Should().BeEquivalentTo(Enumerable.Range(0, 24).Select(i => ($"pb{i}", $"n{i}")));
    }

    [Fact]
    public void Observe_AChainOfNamespaces_ResolvesEveryVethPeerToItsNamespace()
    {
        var chain = Enumerable.Range(0, 6).Select(i => Sandbox.Create($"c{i}")).ToList();
        for (int i = 0; i + 1 < chain.Count; i++)
        {
            Kernel.CreateVeth(new VethEndRequest(Ns(chain[i]), "right"), new VethEndRequest(Ns(chain[i + 1]), "left"));
        }

        var observed = Kernel.Observe(chain.Select(Ns).ToList());

        for (int i = 0; i + 1 < chain.Count; i++)
        {
            var right = observed[Ns(chain[i])].FindLink("right")!;
            var left = observed[Ns(chain[i + 1])].FindLink("left")!;
            right.Peer.Should().Be(new IfLink(left.Index, Ns(chain[i + 1])));
            left.Peer.Should().Be(new IfLink(right.Index, Ns(chain[i])));
        }
        ShouldMatchOracle([.. chain]);
    }
}
