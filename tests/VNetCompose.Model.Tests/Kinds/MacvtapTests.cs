using VNetCompose.Kernel.Links.Kinds;
using static VNetCompose.Model.Tests.Loader;

namespace VNetCompose.Model.Tests.Kinds;

/// <summary>macvtap entries: a macvlan whose device node has an owner.</summary>
public sealed class MacvtapTests
{
    [Fact]
    public void Macvtap_WithAnOwner()
    {
        var result = Load(Head + "links:\n  vtap0: { kind: macvtap, parent: eth0, owner: 1000, group: 100 }\n");
        Render(result).Should().BeEmpty();
        result.Topology!.Links.Single().Data.Should().Be(new MacvtapData("bridge", Owner: 1000, Group: 100));
    }

    [Theory]
    [InlineData("{ kind: macvtap, parent: eth0, owner: -5 }", "4:48: error: links.vtap0.owner: must be between 0 and 2147483647, found -5")]
    [InlineData("{ kind: macvtap, owner: 1000 }", "4:10: error: links.vtap0: missing required key 'parent'")]
    public void BadMacvtaps_AreReportedAtTheirKey(string entry, string expected)
    {
        Problems(Head + "links:\n  vtap0: " + entry + "\n").Should().Equal(expected);
    }
}
