using VNetCompose.Core.Planning;
using VNetCompose.Core.Rendering;
using VNetCompose.Model;
using VNetCompose.Testing;
using VNetCompose.TestSupport;

namespace VNetCompose.Core.Tests;

/// <summary>The engine on a fresh in-memory kernel with a private state directory, for planner tests without root.</summary>
internal sealed class InMemoryLab : IDisposable
{
    private readonly TempStateDir _state = new();

    public InMemoryLab() => Engine = new VNetEngine(Kernel, _state.Settings);

    public InMemoryKernel Kernel { get; } = new();
    public VNetEngine Engine { get; }

    public Plan Plan(Topology topology) => Engine.Plan(topology, LabOptions.Default);

    public string PlanText(Topology topology) => PlanTextRenderer.Render(Plan(topology));

    /// <summary>Up, which must apply.</summary>
    public void Up(Topology topology) => Engine.Up(topology, LabOptions.Default).Status.Should().Be(UpStatus.Applied);

    public void Dispose() => _state.Dispose();
}
