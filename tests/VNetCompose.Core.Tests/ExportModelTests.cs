using VNetCompose.Core.Exporting;
using VNetCompose.Core.Graphing;
using VNetCompose.Core.Rendering;
using VNetCompose.Kernel;
using VNetCompose.Model;
using VNetCompose.Testing;

namespace VNetCompose.Core.Tests;

/// <summary>
/// The export's pieces without a kernel: <see cref="TopologyYamlWriter"/> writes every example so that it loads back to
/// the same plan, and <see cref="KernelExporter"/> on the in-memory kernel exports a lab vnet made so that it plans no
/// change. The real-kernel round trips are in VNetCompose.Cli.Tests (ExportTests).
/// </summary>
public sealed class ExportModelTests : IDisposable
{
    private readonly TempStateDir _state = new();

    public void Dispose() => _state.Dispose();

    public static TheoryData<string> Examples() =>
        new(Directory.GetFiles(Path.Combine(Topologies.RepositoryRoot(), "topologies"), "*.yaml").Select(Path.GetFileName).OfType<string>()
            .Order(StringComparer.Ordinal));

    private static Topology Load(string file) =>
        TopologyLoader.LoadFile(Path.Combine(Topologies.RepositoryRoot(), "topologies", file)).Topology!;

    [Theory]
    [MemberData(nameof(Examples))]
    public void Writer_WritesEveryExample_SoThatItLoadsBackToTheSamePlan(string file)
    {
        var original = Load(file);
        string yaml = TopologyYamlWriter.Write(original);
        var loaded = TopologyLoader.LoadText(yaml, "written.yaml");
        loaded.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Should().BeEmpty(yaml);
        // A fixed point: writing what was read back gives the same text.
        TopologyYamlWriter.Write(loaded.Topology!).Should().Be(yaml);
        // The same graph (every name, address, kind attribute, NAT rule and shaping, without source locations) and the same plan.
        GraphJsonRenderer.Render(LabGraphBuilder.Build(loaded.Topology!, LabOptions.Default))
            .Should().Be(GraphJsonRenderer.Render(LabGraphBuilder.Build(original, LabOptions.Default)));
        var engine = new VNetEngine(new InMemoryKernel(), _state.Settings, ovs: new InMemoryOvsDriver());
        var options = new LabOptions("w-host", "w-");
        PlanTextRenderer.Render(engine.Plan(loaded.Topology!, options)).Should().Be(PlanTextRenderer.Render(engine.Plan(original, options)));
    }

    [Theory]
    [MemberData(nameof(Examples))]
    public void LabMadeOnTheInMemoryKernel_Exported_PlansNoChange(string file)
    {
        if (file == "ovs-vlans.yaml") return; // export does not read Open vSwitch (reported in its comments)
        var kernel = new InMemoryKernel();
        var engine = new VNetEngine(kernel, _state.Settings);
        var options = new LabOptions("e-host", "e-");
        engine.Up(Load(file), options).Succeeded.Should().BeTrue();

        var named = kernel.ListNamespaces().Where(n => n != "e-host").ToList();
        var export = engine.Export(new ExportRequest(named, NetnsId.Named("e-host"), "e-"));
        export.Topology.Name.Should().Be(Path.GetFileNameWithoutExtension(file), "the lab's name comes from its links' marker");
        var loaded = TopologyLoader.LoadText(export.Yaml, "export.yaml");
        loaded.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Should().BeEmpty(export.Yaml);
        var plan = engine.Plan(loaded.Topology!, options);
        plan.Changes.Should().BeEmpty($"the export of a lab vnet made plans no change:\n{PlanTextRenderer.Render(plan)}\n{export.Yaml}");
        engine.Export(new ExportRequest(named, NetnsId.Named("e-host"), "e-")).Yaml.Should().Be(export.Yaml, "the same state exports to the same bytes");
    }

    /// <summary>A link of every kind a topology can declare, with attributes that differ from the kinds' defaults.</summary>
    private const string EveryKind = """
        version: 1
        name: kinds
        namespaces:
          r1: {}
          c1: {}
        veths:
          - a: { namespace: r1, name: uplink0, addresses: [192.0.2.1/24], mtu: 9000 }
            b: { namespace: c1, name: eth0, addresses: [192.0.2.2/24], egress: { rate: 10mbit, burst: 64kb } }
        bridges:
          br0: { namespace: r1, stp: true }
        taps:
          tap0: { mode: tap, namespace: r1, bridge: br0, owner: 1000, multi_queue: true }
          tun0: { mode: tun, namespace: r1, addresses: [10.8.0.1/24], up: false }
        links:
          mv0: { kind: macvlan, namespace: r1, parent: uplink0, mode: private }
          mvt0: { kind: macvtap, namespace: r1, parent: uplink0, group: 100 }
          vx0: { kind: vxlan, namespace: r1, vni: 7, remote: 192.0.2.2, local: 192.0.2.1, dev: uplink0, bridge: br0, ttl: 4 }
          ipv0: { kind: ipvlan, namespace: c1, parent: eth0, mode: l3 }
          eth0.10: { kind: vlan, namespace: c1, parent: eth0, id: 10, protocol: 802.1ad }
          d0: { kind: dummy, namespace: r1, addresses: [203.0.113.1/32] }
        nat:
          - port_forward: { namespace: r1, protocol: udp, port: 53, to: "192.0.2.2:5353", in: uplink0, destination: 192.0.2.1/32 }
          - snat: { namespace: c1, source: 10.0.0.0/8, to: 192.0.2.2, out: eth0 }
        """;

    [Fact]
    public void EveryLinkKind_IsDrawn_AndExported_ThroughItsDescriptor()
    {
        var topology = TopologyLoader.LoadText(EveryKind, "kinds.yaml").Topology!;
        var graph = LabGraphBuilder.Build(topology, LabOptions.Default);
        graph.Nodes.Where(n => n.Role is NodeRole.Link or NodeRole.Switch).Select(n => n.Kind).Distinct()
            .Should().BeEquivalentTo(Kernel.Links.LinkKinds.Declarable.Select(k => k.Name));
        graph.Node("r1/vx0").Attributes.Should().Equal("vni 7", "remote 192.0.2.2", "local 192.0.2.1", "ttl 4", "dev uplink0");
        graph.Node("c1/eth0.10").Attributes.Should().Equal("id 10", "protocol 802.1ad", "parent eth0");
        graph.Edges.Single(e => e.Id == "veth:r1/uplink0").ToEnd!.Notes.Should().Equal("egress rate 10mbit, burst 65536");

        var kernel = new InMemoryKernel();
        var engine = new VNetEngine(kernel, _state.Settings);
        var options = new LabOptions("k-host", "k-");
        engine.Up(topology, options).Succeeded.Should().BeTrue();
        var export = engine.Export(new ExportRequest(["k-r1", "k-c1"], NetnsId.Named("k-host"), "k-"));
        var loaded = TopologyLoader.LoadText(export.Yaml, "export.yaml");
        loaded.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Should().BeEmpty(export.Yaml);
        engine.Plan(loaded.Topology!, options).Changes.Should().BeEmpty(export.Yaml);
        loaded.Topology!.Links.Select(l => l.Kind.Name).Order().Should().Equal(topology.Links.Select(l => l.Kind.Name).Order());
        export.Yaml.Should().Contain("mv0: { kind: macvlan, namespace: r1, parent: uplink0, mode: private, mac:")
            .And.Contain("egress: { rate: 10mbit, burst: 65536 }")
            .And.Contain("- port_forward: { namespace: r1, protocol: udp, port: 53, to: \"192.0.2.2:5353\", in: uplink0, destination: 192.0.2.1/32 }");
    }

    [Fact]
    public void Export_OfANamespaceThatIsNotThere_OrCannotBeNamed_Throws()
    {
        var kernel = new InMemoryKernel();
        kernel.CreateNamespace("lab-host");
        var engine = new VNetEngine(kernel, _state.Settings);
        engine.Invoking(e => e.Export(new ExportRequest(["nope"]))).Should().Throw<ExportException>().WithMessage("no namespace nope (ip netns list)");
        engine.Invoking(e => e.Export(new ExportRequest(["lab-host"], Prefix: "lab-")))
            .Should().Throw<ExportException>().WithMessage("namespace lab-host cannot be a topology namespace as 'host'*");
        engine.Export(new ExportRequest([], NetnsId.Named("lab-host"))).Topology.Namespaces.Should().BeEmpty();
    }
}
