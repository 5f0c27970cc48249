using VNetCompose.Kernel.Links;
using VNetCompose.Kernel.Links.Kinds;
using static VNetCompose.Model.Tests.Loader;

namespace VNetCompose.Model.Tests.Kinds;

/// <summary>macvlan entries: parent in the same or another namespace, mode, and the parent rules.</summary>
public sealed class MacvlanTests
{
    [Fact]
    public void Macvlan_WithAParentElsewhere_AndADefaultMode()
    {
        var result = Load(Head + """
            namespaces: { c1: {} }
            veths:
              - a: { name: uplink0 }
                b: { namespace: c1, name: up }
            links:
              mv0: { kind: macvlan, namespace: c1, parent: host/uplink0, addresses: [192.0.2.10/24] }
              mv1: { kind: macvlan, parent: uplink0, mode: vepa }
            """);
        Render(result).Should().BeEmpty();
        var links = result.Topology!.Links;
        (links[0].Kind, links[0].Namespace, links[0].Parent!.ToString(), links[0].Data).Should()
            .Be((LinkKinds.Macvlan, "c1", "host/uplink0", new MacvlanData("bridge")));
        (links[1].Namespace, links[1].Parent!.ToString(), links[1].Data).Should().Be(("host", "host/uplink0", new MacvlanData("vepa")));
    }

    [Fact]
    public void AParentNotDeclaredInHost_IsTakenAsTheMachinesOwnLink()
    {
        Problems(Head + "links:\n  mv0: { kind: macvlan, parent: eth0 }\n").Should().BeEmpty();
    }

    [Theory]
    [InlineData("{ kind: macvlan }", "4:8: error: links.mv0: missing required key 'parent'")]
    [InlineData("{ kind: macvlan, parent: eth0, mode: bridged }", "4:44: error: links.mv0.mode: expected 'private' or 'vepa' or 'bridge' or 'passthru' or 'source', found 'bridged'")]
    [InlineData("{ kind: macvlan, namespace: c1, parent: eth0 }", "4:48: error: links.mv0.parent: no link 'eth0' is declared in namespace 'c1'; vnet creates that namespace empty, so a parent there must be declared")]
    [InlineData("{ kind: macvlan, parent: nowhere/eth0 }", "4:33: error: links.mv0.parent: namespace 'nowhere' is not declared under 'namespaces'")]
    [InlineData("{ kind: macvlan, parent: mv0 }", "4:33: error: links.mv0.parent: a link cannot be its own parent")]
    [InlineData("{ kind: macvlan, parent: tun0 }", "4:33: error: links.mv0.parent: 'tun0' (taps.tun0, line 7) is a tun device, which carries no Ethernet frames for a macvlan to share")]
    public void BadMacvlans_AreReportedAtTheirKey(string entry, string expected)
    {
        Problems(Head + "namespaces: { c1: {} }\nlinks:\n  mv0: " + entry + "\ntaps:\n  tun0: { mode: tun }\n").Should().Equal(expected.Replace("4:", "5:", StringComparison.Ordinal));
    }

    [Fact]
    public void ParentsInACycle_AreRefused()
    {
        Problems(Head + """
            links:
              a: { kind: macvlan, parent: b }
              b: { kind: macvlan, parent: a }
            """).Should().Equal("4:31: error: links.a.parent: parents form a cycle: a -> b -> a");
    }
}
