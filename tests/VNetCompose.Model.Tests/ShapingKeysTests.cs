using VNetCompose.Kernel.Links.Kinds;
using static VNetCompose.Model.Tests.Loader;

namespace VNetCompose.Model.Tests;

/// <summary>egress:, ingress: and impair: where links are declared, and the rules across them.</summary>
public sealed class ShapingKeysTests
{
    [Fact]
    public void EveryKindOfLink_TakesEgressAndIngress()
    {
        LoadResult result = Load(Head + """
            namespaces:
              h1: {}
            bridges:
              br0: { namespace: h1, egress: { rate: 1gbit } }
            taps:
              tap0: { mode: tap, namespace: h1, bridge: br0, egress: { delay: 5ms } }
            links:
              br1: { kind: bridge, namespace: h1, ingress: { rate: 50mbit } }
            veths:
              - a: { namespace: h1, name: eth0, egress: { rate: 20mbit }, ingress: { loss: 1% } }
                b: { name: eth0 }
            """);
        Render(result).Should().BeEmpty();
        var topology = result.Topology!;
        topology.Links.Single(l => l.Name == "br0").Egress!.RateBitsPerSecond.Should().Be(1_000_000_000);
        topology.Links.Single(l => l.Name == "tap0").Egress!.Delay.Should().Be(TimeSpan.FromMilliseconds(5));
        topology.Links.Single(l => l.Name == "br1").Should().BeEquivalentTo(new { Egress = (Impairment?)null }, o => o.ExcludingMissingMembers());
        topology.Links.Single(l => l.Name == "br1").Ingress!.RateBitsPerSecond.Should().Be(50_000_000);
        var end = topology.Veths.Single().A;
        end.Egress!.RateBitsPerSecond.Should().Be(20_000_000);
        end.Ingress!.Loss.Should().Be(new ChanceImpairment(1));
        end.Ingress.KeyLocations["loss"].Should().Be(new SourceLocation(FileName, 12, 74, "veths[0].a.ingress.loss"));
        topology.Veths.Single().B.Egress.Should().BeNull();
    }

    [Fact]
    public void Impair_BelongsToThePair()
    {
        LoadResult result = Load(Head + """
            veths:
              - a: { name: v0 }
                b: { name: v1 }
                impair: { delay: 40ms, jitter: 5ms, loss: 0.5%, rate: 100mbit }
            """);
        Render(result).Should().BeEmpty();
        var veth = result.Topology!.Veths.Single();
        veth.Impair!.Delay.Should().Be(TimeSpan.FromMilliseconds(40));
        veth.Impair.KeyLocations["delay"].KeyPath.Should().Be("veths[0].impair.delay");
        (veth.A.Egress, veth.B.Egress).Should().Be((null, null), "the pair's impair is resolved into the ends' egress when planned");
    }

    [Fact]
    public void Impair_AndAnEndsEgress_AreNotMerged()
    {
        Problems(Head + """
            veths:
              - a: { name: v0, egress: { rate: 20mbit } }
                b: { name: v1, ingress: { rate: 20mbit } }
                impair: { delay: 40ms }
            """).Should().Equal(
            "4:20: error: veths[0].a.egress: veths[0].impair (line 6) already shapes what this end sends; put every key in impair, or drop impair and give each end its own egress");
    }

    [Fact]
    public void TheIfbOfAnIngress_NeedsAFreeName()
    {
        Problems(Head + """
            bridges:
              ifb-v0: {}
            veths:
              - a: { name: v0, ingress: { rate: 1mbit } }
                b: { name: v1 }
            """).Should().Equal(
            "6:20: error: veths[0].a.ingress: the ifb device vnet makes for this ingress is named 'ifb-v0', which bridges.ifb-v0 (line 4) already uses; rename that interface");
    }

    [Fact]
    public void IfbDevices_AreNotDeclared()
    {
        Problems(Head + "links:\n  ifb0: { kind: ifb }\n").Should().Equal(
            "4:17: error: links.ifb0.kind: vnet makes the ifb devices it needs itself: give the link to shape an 'ingress:' instead");
    }

    [Theory]
    [InlineData("eth0", "ifb-eth0")]
    [InlineData("abcdefghijk", "ifb-abcdefghijk")]
    public void IfbNames_AreTheLinksNameWhenItFits(string link, string ifb) => IfbKind.NameFor(link).Should().Be(ifb);

    [Fact]
    public void IfbNames_OfLongLinks_AreShortenedWithAHash_AndDiffer()
    {
        string a = IfbKind.NameFor("verylongname1"), b = IfbKind.NameFor("verylongname2");
        a.Should().MatchRegex("^ifb-verylo-[0-9a-f]{4}$").And.HaveLength(15);
        b.Should().NotBe(a);
        IfbKind.NameFor("verylongname1").Should().Be(a, "the name is stable across runs");
    }

    [Fact]
    public void AnImpairmentMadeInCode_IsCheckedByTheSameRules()
    {
        new Impairment { Jitter = TimeSpan.FromMilliseconds(5) }.Check().Should().Equal(("jitter", "jitter needs a delay to vary"));
        new Impairment { Loss = new ChanceImpairment(120) }.Check().Should().Equal(("loss", "a percentage is between 0 and 100, found 120"));
        new Impairment { RateBitsPerSecond = 20_000_000, Delay = TimeSpan.FromMilliseconds(40) }.Check().Should().BeEmpty();
    }

    [Fact]
    public void WithShaping_ChangesOneDirectionOfOneLink_AndSplitsAPairsImpair()
    {
        var topology = Load(Head + """
            veths:
              - a: { name: v0 }
                b: { name: v1 }
                impair: { rate: 100mbit }
            """).Topology!;
        var slow = new Impairment { RateBitsPerSecond = 1_000_000 };

        var changed = topology.WithShaping("host", "v0", ShapedDirection.Egress, slow);

        var veth = changed.Veths.Single();
        veth.Impair.Should().BeNull();
        veth.A.Egress.Should().Be(slow);
        veth.B.Egress!.RateBitsPerSecond.Should().Be(100_000_000, "the other end keeps what impair gave it");
        changed.WithShaping("host", "v1", ShapedDirection.Ingress, slow).Veths.Single().B.Ingress.Should().Be(slow);
    }
}
