using static VNetCompose.Model.Tests.Loader;

namespace VNetCompose.Model.Tests;

/// <summary>Rules between sections: namespace references, unique interface names, bridge ports.</summary>
public sealed class CrossReferenceTests
{
    [Fact]
    public void NamespaceReference_MustBeDeclared_WithASuggestion()
    {
        Problems(Head + """
            namespaces:
              ubuntu1: {}
            bridges:
              br0: { namespace: switch }
            veths:
              - a: { namespace: ubuntu2, name: eth0 }
                b: { namespace: host, name: v0 }
            taps:
              t0: { mode: tap, namespace: hots }
            nat:
              - masquerade: { namespace: router }
            """).Should().Equal(
            "6:21: error: bridges.br0.namespace: namespace 'switch' is not declared under 'namespaces'",
            "8:21: error: veths[0].a.namespace: namespace 'ubuntu2' is not declared under 'namespaces'; did you mean 'ubuntu1'?",
            "11:31: error: taps.t0.namespace: namespace 'hots' is not declared under 'namespaces'; did you mean 'host'?",
            "13:30: error: nat[0].masquerade.namespace: namespace 'router' is not declared under 'namespaces'");
    }

    [Fact]
    public void NamespaceReference_ToHost_NeedsNoDeclaration()
    {
        Problems(Head + "bridges:\n  br0: { namespace: host }\n").Should().BeEmpty();
    }

    [Fact]
    public void InterfaceName_IsUniquePerNamespace_AcrossBridgesVethsAndTaps()
    {
        Problems(Head + """
            namespaces:
              n1: {}
            bridges:
              eth0: { namespace: n1 }
            veths:
              - a: { namespace: n1, name: eth0 }
                b: { name: tap0 }
              - a: { namespace: n1, name: eth1 }
                b: { name: eth1 }
            taps:
              tap0: { mode: tap }
            """).Should().Equal(
            "8:31: error: veths[0].a.name: interface 'eth0' is already declared in namespace 'n1' by bridges.eth0 (line 6)",
            "13:3: error: taps.tap0: interface 'tap0' is already declared in namespace 'host' by veths[0].b (line 9)");
    }

    [Fact]
    public void BothEndsOfAVeth_WithOneNameInOneNamespace_IsAnError()
    {
        Problems(Head + "veths:\n  - a: { name: v0 }\n    b: { name: v0 }\n").Should().Equal(
            "5:16: error: veths[0].b.name: interface 'v0' is already declared in namespace 'host' by veths[0].a (line 4)");
    }

    [Fact]
    public void BridgeReference_MustNameABridgeInTheSameNamespace()
    {
        Problems(Head + """
            namespaces:
              ubuntu1: {}
            bridges:
              docker0: {}
            veths:
              - a: { namespace: ubuntu1, name: eth0, bridge: docker0 }
                b: { name: v0, bridge: docker1 }
              - a: { name: v1, bridge: v0 }
                b: { name: v2 }
            taps:
              tap0: { mode: tap, bridge: br9 }
            """).Should().Equal(
            "8:50: error: veths[0].a.bridge: bridge 'docker0' is in namespace 'host', not 'ubuntu1'; a port must be in its bridge's namespace",
            "9:28: error: veths[0].b.bridge: no bridge 'docker1' is declared in namespace 'host'; did you mean 'docker0'?",
            "10:28: error: veths[1].a.bridge: 'v0' in namespace 'host' is a veth end, not a bridge",
            "13:30: error: taps.tap0.bridge: no bridge 'br9' is declared in namespace 'host'");
    }

    [Fact]
    public void BridgeReference_IsCheckedEvenWhenThePortsOwnNameIsWrong()
    {
        Problems(Head + "veths:\n  - a: { name: \"bad name\", bridge: nobr }\n    b: { name: v0 }\n").Should().Equal(
            "4:16: error: veths[0].a.name: interface name 'bad name' must not contain whitespace",
            "4:36: error: veths[0].a.bridge: no bridge 'nobr' is declared in namespace 'host'");
    }

    [Fact]
    public void ErrorsInEverySection_AreAllReportedAtOnce()
    {
        Problems("""
            version: 1
            name: Lab
            namespaces:
              host: {}
            bridges:
              br0: { mtu: 10 }
            veths:
              - a: { name: eth0, namespace: nowhere }
                b: { name: averyveryverylongname }
            taps:
              tap0: { mode: tab }
            nat:
              - masquerade: { source: 10.0.0.1/8 }
            """).Should().Equal(
            "2:7: error: name: topology name 'Lab' must start with a lowercase letter and contain only a-z, 0-9 and '-'",
            "4:3: error: namespaces.host: 'host' is the namespace vnet runs in and cannot be declared under 'namespaces'; it exists without being declared",
            "6:15: error: bridges.br0.mtu: must be between 68 and 65535, found 10",
            "8:33: error: veths[0].a.namespace: namespace 'nowhere' is not declared under 'namespaces'",
            "9:16: error: veths[0].b.name: interface name 'averyveryverylongname' is 21 bytes; the kernel allows at most 15",
            "11:17: error: taps.tap0.mode: expected 'tun' or 'tap', found 'tab'",
            "13:27: error: nat[0].masquerade.source: '10.0.0.1/8' has bits set after the prefix length; the network is 10.0.0.0/8");
    }
}
