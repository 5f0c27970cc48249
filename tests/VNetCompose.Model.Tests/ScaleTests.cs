using System.Text;

namespace VNetCompose.Model.Tests;

/// <summary>
/// Every check is indexed and every repeated finding grouped: big generated files give a handful of diagnostics
/// in linear time (bench/validate measures how long; these tests pin the counts that were quadratic before).
/// </summary>
public sealed class ScaleTests
{
    private static LoadResult Load(StringBuilder yaml) => TopologyLoader.LoadText(yaml.ToString(), "big.yaml");

    [Fact]
    public void ManyBridgesInOneSlash8_GiveOneOverlapWarning_NotOnePerPair()
    {
        // Before: 1,200 bridges gave 719,400 warnings (one per pair) in 5.7 s.
        var yaml = new StringBuilder("version: 1\nname: t\nbridges:\n");
        for (int i = 1; i <= 1200; i++) yaml.Append($"  b{i}: {{ addresses: [10.{i >> 8}.{i & 255}.1/8] }}\n");
        LoadResult result = Load(yaml);
        result.Diagnostics.Should().ContainSingle().Which.ToString().Should().Be(
            "big.yaml:5:21: warning: bridges.b2.addresses[0]: 10.0.2.1/8 overlaps 10.0.1.1/8 on 'b1' (bridges.b1, line 4) in the same namespace, "
            + "as do subnets of 1198 more interfaces there; their routes compete and traffic may leave through either interface");
    }

    [Fact]
    public void SeparateOverlapGroups_AreEachReportedOnce()
    {
        var yaml = new StringBuilder("version: 1\nname: t\nbridges:\n");
        foreach (var (name, cidr) in new[]
        {
            ("a1", "10.1.0.1/16"), ("b1", "192.168.1.1/24"), ("a2", "10.1.2.1/24"), ("c1", "fd00::1/64"), ("b2", "192.168.1.2/24"),
            ("d1", "172.16.0.1/24"), ("c2", "fd00::2/64"), ("a3", "10.1.3.1/24"),
        })
        {
            yaml.Append($"  {name}: {{ addresses: [\"{cidr}\"] }}\n");
        }
        Loader.Render(Load(yaml)).Should().Equal(
            "6:21: warning: bridges.a2.addresses[0]: 10.1.2.1/24 overlaps 10.1.0.1/16 on 'a1' (bridges.a1, line 4) in the same namespace, as do subnets of 1 more interface there; their routes compete and traffic may leave through either interface",
            "8:21: warning: bridges.b2.addresses[0]: 192.168.1.2/24 overlaps 192.168.1.1/24 on 'b1' (bridges.b1, line 5) in the same namespace; their routes compete and traffic may leave through either interface",
            "10:21: warning: bridges.c2.addresses[0]: fd00::2/64 overlaps fd00::1/64 on 'c1' (bridges.c1, line 7) in the same namespace; their routes compete and traffic may leave through either interface");
    }

    [Fact]
    public void UndeclaredReferencesAmongManyNames_AreAllReported_WithBoundedDidYouMean()
    {
        // Before: each reference was compared with every name (8k: 28-38 s).
        var yaml = new StringBuilder("version: 1\nname: t\nnamespaces:\n");
        for (int i = 0; i < 5000; i++) yaml.Append($"  ns{i}: {{}}\n");
        yaml.Append("bridges:\n");
        for (int i = 0; i < 5000; i++) yaml.Append($"  br{i}: {{ namespace: nx{i} }}\n");
        yaml.Append("veths:\n");
        for (int i = 0; i < 5000; i++) yaml.Append($"  - a: {{ name: a{i}, bridge: bq{i} }}\n    b: {{ name: b{i} }}\n");
        LoadResult result = Load(yaml);
        result.Counts.Errors.Should().Be(10000);
        result.Diagnostics.Should().HaveCount(DiagnosticBagLimit);
        result.Omitted.Should().Be(10000 - DiagnosticBagLimit);
        result.Diagnostics[0].Message.Should().Be("namespace 'nx0' is not declared under 'namespaces'; did you mean 'ns0'?");
    }

    [Fact]
    public void AnErrorOnEveryLine_KeepsAThousand_AndCountsTheRest()
    {
        var yaml = new StringBuilder("version: 1\nname: t\nbridges:\n");
        for (int i = 0; i < 20000; i++) yaml.Append($"  b{i}: {{ mtu: x }}\n");
        LoadResult result = Load(yaml);
        result.Succeeded.Should().BeFalse();
        result.Diagnostics.Should().HaveCount(DiagnosticBagLimit);
        result.Counts.Should().Be((20000, 0));
        result.Omitted.Should().Be(19000);
        result.Diagnostics[0].ToString().Should().Be("big.yaml:4:14: error: bridges.b0.mtu: expected an integer, found 'x'");
    }

    [Fact]
    public void RoutesAgainstManyInterfaces_AreCheckedThroughAnIndex()
    {
        var yaml = new StringBuilder("version: 1\nname: t\nnamespaces:\n  r:\n    routes:\n");
        for (int i = 0; i < 3000; i++) yaml.Append($"      - {{ to: 172.16.{i >> 8}.{i & 255}/32, via: 10.{i >> 8}.{i & 255}.9 }}\n");
        yaml.Append("      - { to: 172.17.0.0/16, via: 192.0.2.1 }\n  o: {}\nveths:\n");
        for (int i = 0; i < 3000; i++) yaml.Append($"  - a: {{ namespace: r, name: v{i}, addresses: [10.{i >> 8}.{i & 255}.1/24] }}\n    b: {{ namespace: o, name: w{i} }}\n");
        Loader.Render(Load(yaml)).Should().Equal(
            "3006:35: warning: namespaces.r.routes[3000].via: gateway 192.0.2.1 is in no subnet of namespace 'r'; the kernel refuses such a route (Network is unreachable)");
    }

    private const int DiagnosticBagLimit = 1000;
}
