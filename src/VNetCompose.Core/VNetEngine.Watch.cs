using VNetCompose.Core.Desired;
using VNetCompose.Core.Watching;
using VNetCompose.Kernel;
using VNetCompose.Model;

namespace VNetCompose.Core;

public sealed partial class VNetEngine
{
    /// <summary>
    /// Watches a lab: subscribes to kernel events in its namespaces (the driver must implement
    /// <see cref="IKernelEvents"/>) and, for a lab with Open vSwitch objects, to the OVS driver's changes when it implements
    /// <see cref="Kernel.Ovs.IOvsEvents"/>, reports the status once (<see cref="WatchStarted"/>), then each settled
    /// change to the lab's objects (<see cref="DriftReported"/>), another vnet process's up or down
    /// (<see cref="ChangedByVnet"/>) and, with <paramref name="heal"/>, each repair (<see cref="Healed"/>,
    /// <see cref="NotHealed"/>). Nothing runs while nothing changes. The stream ends, without an exception,
    /// when <paramref name="cancellationToken"/> is cancelled, and releases every socket then.
    /// <code>
    /// await foreach (var e in engine.WatchAsync(topology, options, heal: false, ct))
    ///     if (e is DriftReported { Ok: false } drift) Assert.Fail(string.Join("\n", drift.Lines.Select(l => l.Text)));
    /// </code>
    /// </summary>
    /// <param name="topology">The lab's topology.</param>
    /// <param name="options">Where the lab lives.</param>
    /// <param name="heal">Repair drift with the plan <c>up</c> would apply for it, only while the instance is up
    /// (its state file exists): a <c>down</c> from another process is never undone.</param>
    /// <param name="cancellationToken">Ends the stream (without an exception).</param>
    public IAsyncEnumerable<WatchEvent> WatchAsync(Topology topology, LabOptions options, bool heal = false,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(topology);
        ArgumentNullException.ThrowIfNull(options);
        var events = _kernel as IKernelEvents
            ?? throw new NotSupportedException($"the kernel driver {_kernel.GetType().Name} cannot report changes (no {nameof(IKernelEvents)})");
        var desired = DesiredStateBuilder.Build(topology, options);
        return new LabWatcher(_kernel, events, _ovs, desired, heal, _store, _log, _settings).RunAsync(cancellationToken);
    }
}
