using VNetCompose.Core.Desired;
using VNetCompose.Core.Graphing;
using VNetCompose.Model;

namespace VNetCompose.Core;

public sealed partial class VNetEngine
{
    /// <summary>
    /// The topology as a graph (<c>vnet graph</c>); with <paramref name="live"/>, marked with what the kernel has: each
    /// object's state from the same plan <see cref="Status(Topology, LabOptions)"/> reports, and links vnet did not create
    /// on the lab's segments. Reads only.
    /// </summary>
    public LabGraph Graph(Topology topology, LabOptions options, bool live = false)
    {
        ArgumentNullException.ThrowIfNull(topology);
        ArgumentNullException.ThrowIfNull(options);
        var graph = LabGraphBuilder.Build(topology, options);
        if (!live) return graph;
        var desired = DesiredStateBuilder.Build(topology, options);
        var (plan, observed) = ObserveAndPlan(desired, _clock.Time("read state", () => _store.Read(desired.Instance)));
        return LiveOverlay.Apply(graph, topology, options, StatusReport.ForTopology(plan), observed);
    }
}
