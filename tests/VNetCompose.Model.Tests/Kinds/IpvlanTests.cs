using VNetCompose.Kernel.Links.Kinds;
using static VNetCompose.Model.Tests.Loader;

namespace VNetCompose.Model.Tests.Kinds;

/// <summary>ipvlan entries.</summary>
public sealed class IpvlanTests
{
    [Fact]
    public void Ipvlan_OnAParentElsewhere_WithItsMode()
    {
        var result = Load(Head + "namespaces: { c2: {} }\nlinks:\n  ipv0: { kind: ipvlan, namespace: c2, parent: host/eth0, mode: l3s }\n");
        Render(result).Should().BeEmpty();
        var ipv0 = result.Topology!.Links.Single();
        (ipv0.Parent!.ToString(), ipv0.Data).Should().Be(("host/eth0", new IpvlanData("l3s")));
    }

    [Fact]
    public void AnUnknownMode_IsReportedAtTheKey()
    {
        Problems(Head + "links:\n  ipv0: { kind: ipvlan, parent: eth0, mode: l4 }\n").Should().Equal(
            "4:45: error: links.ipv0.mode: expected 'l2' or 'l3' or 'l3s', found 'l4'");
    }
}
