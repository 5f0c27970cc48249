using VNetCompose.Kernel;
using VNetCompose.Kernel.Links;
using VNetCompose.Kernel.Links.Kinds;
using static VNetCompose.Model.Tests.Loader;

namespace VNetCompose.Model.Tests;

/// <summary>The <c>links:</c> section: any kind, read through the kind's descriptor; bridges and taps written there too.</summary>
public sealed class LinksSectionTests
{
    [Fact]
    public void BridgeAndTap_UnderLinks_AreTheSameAsInTheirOwnSections()
    {
        var viaLinks = Load(Head + """
            links:
              br0: { kind: bridge, stp: true, addresses: [10.0.0.1/24] }
              vm0: { kind: tap, bridge: br0, owner: 1000, multi_queue: true, vnet_hdr: true }
            """);
        var viaSections = Load(Head + """
            bridges:
              br0: { stp: true, addresses: [10.0.0.1/24] }
            taps:
              vm0: { mode: tap, bridge: br0, owner: 1000, multi_queue: true, vnet_hdr: true }
            """);
        Render(viaLinks).Should().BeEmpty();
        Render(viaSections).Should().BeEmpty();
        viaLinks.Topology!.Links.Select(l => (l.Name, l.Kind, l.Namespace, l.Bridge, l.Data))
            .Should().Equal(viaSections.Topology!.Links.Select(l => (l.Name, l.Kind, l.Namespace, l.Bridge, l.Data)));
        viaLinks.Topology.Links[1].Data.Should().Be(new TunData(TunMode.Tap, Owner: 1000, MultiQueue: true, VnetHdr: true));
    }

    [Fact]
    public void Name_GivesTheInterfaceName_SoTwoNamespacesCanEachHaveOne()
    {
        var result = Load(Head + """
            namespaces: { a: {}, b: {} }
            links:
              a-eth0: { kind: tun, namespace: a, name: eth0 }
              b-eth0: { kind: tun, namespace: b, name: eth0 }
            """);
        Render(result).Should().BeEmpty();
        result.Topology!.Links.Select(l => $"{l.Namespace}/{l.Name}").Should().Equal("a/eth0", "b/eth0");
    }

    [Fact]
    public void TheSameNameInOneNamespace_IsAnError_AcrossSections()
    {
        Problems(Head + """
            bridges:
              br0: {}
            links:
              x: { kind: tap, name: br0 }
            """).Should().Equal("6:25: error: links.x.name: interface 'br0' is already declared in namespace 'host' by bridges.br0 (line 4)");
    }

    [Theory]
    [InlineData("{ addresses: [10.0.0.1/24] }", "4:6: error: links.x: missing required key 'kind'")]
    [InlineData("{ kind: veth }", "4:14: error: links.x.kind: a veth pair is declared under 'veths:' (both ends together)")]
    [InlineData("{ kind: tap, stp: true }", "4:19: error: links.x: 'stp' does not apply here: it is a key of bridge links, not of tap")]
    [InlineData("{ kind: tap, colour: red }", "4:19: error: links.x: unknown key 'colour'")]
    [InlineData("{ kind: tun, mac: 02:00:00:00:00:01 }", "4:19: error: links.x.mac: a tun device has no MAC address; remove 'mac' or use kind: tap")]
    [InlineData("{ kind: tap, owner: -1 }", "4:26: error: links.x.owner: must be between 0 and 2147483647, found -1")]
    public void BadEntries_AreReportedAtTheirKey(string entry, string expected)
    {
        Problems(Head + "links:\n  x: " + entry + "\n").Should().Equal(expected);
    }

    [Fact]
    public void AnUnknownKind_IsReportedWithTheClosestKindAndEveryKnownOne()
    {
        Problems(Head + "links:\n  x: { kind: brige }\n").Should().Equal(
            "4:14: error: links.x.kind: unknown link kind 'brige'; did you mean 'bridge'?; vnet knows "
            + string.Join(", ", LinkKinds.Declarable.Select(k => k.Name)));
    }

    [Fact]
    public void EveryDeclarableKind_HasItsKeysDocumented()
    {
        foreach (var (kind, key) in LinkKinds.Declarable.SelectMany(k => k.Keys.Select(key => (k, key))))
            (key.Description.Length > 10 && key.Description.EndsWith('.')).Should().BeTrue($"{kind.Name}.{key.Name} says what it is");
    }
}
