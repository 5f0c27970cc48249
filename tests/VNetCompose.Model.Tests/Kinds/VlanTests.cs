using VNetCompose.Kernel.Links.Kinds;
using static VNetCompose.Model.Tests.Loader;

namespace VNetCompose.Model.Tests.Kinds;

/// <summary>vlan entries: the contract's <c>eth0.10</c>.</summary>
public sealed class VlanTests
{
    [Fact]
    public void Vlan_AsTheContractWritesIt()
    {
        var result = Load(Head + "links:\n  eth0.10: { kind: vlan, parent: eth0, id: 10, protocol: 802.1Q }\n");
        Render(result).Should().BeEmpty();
        var vlan = result.Topology!.Links.Single();
        (vlan.Name, vlan.Parent!.ToString(), vlan.Data).Should().Be(("eth0.10", "host/eth0", new VlanData(10, "802.1Q")));
    }

    [Theory]
    [InlineData("{ kind: vlan, parent: eth0 }", "4:12: error: links[\"eth0.10\"]: missing required key 'id'")]
    [InlineData("{ kind: vlan, parent: eth0, id: 4095 }", "4:44: error: links[\"eth0.10\"].id: must be between 1 and 4094, found 4095")]
    [InlineData("{ kind: vlan, parent: eth0, id: 5, protocol: 802.1x }", "4:57: error: links[\"eth0.10\"].protocol: expected '802.1Q' or '802.1ad', found '802.1x'")]
    public void BadVlans_AreReportedAtTheirKey(string entry, string expected)
    {
        Problems(Head + "links:\n  eth0.10: " + entry + "\n").Should().Equal(expected);
    }
}
