using System.Net;
using VNetCompose.Kernel.Links.Kinds;
using static VNetCompose.Model.Tests.Loader;

namespace VNetCompose.Model.Tests.Kinds;

/// <summary>vxlan entries: vni, one remote or one group, families, the underlay in the vxlan's own namespace.</summary>
public sealed class VxlanTests
{
    private const string Underlay = "veths:\n  - a: { name: under0 }\n    b: { name: under1 }\n";

    [Fact]
    public void Vxlan_WithDefaults()
    {
        var result = Load(Head + Underlay + "links:\n  vx0: { kind: vxlan, vni: 42, remote: 198.51.100.2, dev: under0 }\n");
        Render(result).Should().BeEmpty();
        var vx0 = result.Topology!.Links.Single();
        vx0.Parent!.ToString().Should().Be("host/under0");
        vx0.Data.Should().Be(new VxlanData(42, Remote: IPAddress.Parse("198.51.100.2"), Port: 4789, Learning: true, Ttl: 0));
    }

    [Theory]
    [InlineData("{ kind: vxlan, remote: 198.51.100.2 }", "7:8: error: links.vx0: missing required key 'vni'")]
    [InlineData("{ kind: vxlan, vni: 0 }", "7:28: error: links.vx0.vni: must be between 1 and 16777215, found 0")]
    [InlineData("{ kind: vxlan, vni: 16777216 }", "7:28: error: links.vx0.vni: must be between 1 and 16777215, found 16777216")]
    [InlineData("{ kind: vxlan, vni: 1, remote: 198.51.100.2, group: 239.1.1.1 }", "7:60: error: links.vx0.group: give either remote (one other end) or group (multicast), not both")]
    [InlineData("{ kind: vxlan, vni: 1, remote: 239.1.1.1 }", "7:39: error: links.vx0.remote: 239.1.1.1 is a multicast address; use group: for multicast")]
    [InlineData("{ kind: vxlan, vni: 1, group: 198.51.100.2 }", "7:38: error: links.vx0.group: 198.51.100.2 is not a multicast address; use remote: for one other end")]
    [InlineData("{ kind: vxlan, vni: 1, remote: 198.51.100.2, local: 'fd00::1' }", "7:60: error: links.vx0.local: local fd00::1 and remote 198.51.100.2 are of different address families")]
    [InlineData("{ kind: vxlan, vni: 1, mode: bridge }", "7:31: error: links.vx0: 'mode' does not apply here: it is a key of macvlan, macvtap and ipvlan links, not of vxlan")]
    [InlineData("{ kind: macvlan, parent: under0, vni: 1 }", "7:41: error: links.vx0: 'vni' does not apply here: it is a key of vxlan links, not of macvlan")]
    public void BadVxlans_AreReportedAtTheirKey(string entry, string expected)
    {
        Problems(Head + Underlay + "links:\n  vx0: " + entry + "\n").Should().Equal(expected);
    }

    [Fact]
    public void TheUnderlay_MustBeInTheVxlansOwnNamespace()
    {
        Problems(Head + "namespaces: { s: {} }\n" + Underlay + "links:\n  vx0: { kind: vxlan, namespace: s, vni: 1, dev: host/under0 }\n")
            .Should().Equal("8:50: error: links.vx0.dev: a vxlan's dev must be in the vxlan's own namespace; write just its name");
    }
}
