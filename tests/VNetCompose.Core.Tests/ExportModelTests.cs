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
