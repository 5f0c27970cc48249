using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using VNetCompose.Core.Apply;
using VNetCompose.Core.Desired;
using VNetCompose.Core.Observation;
using VNetCompose.Core.Planning;
using VNetCompose.Core.State;
using VNetCompose.Kernel;
using VNetCompose.Kernel.Ovs;
using VNetCompose.Kernel.Links.Kinds;
using VNetCompose.Model;

namespace VNetCompose.Core;

/// <summary>Where state files live and how long the engine waits.</summary>
public sealed record VNetEngineSettings
{
    /// <summary>Default: <c>$VNET_STATE_DIR</c> or <c>/run/vnet</c>.</summary>
    public string StateDirectory { get; init; } = StateStore.DefaultDirectory;
    /// <summary>Retries and waits.</summary>
    public ReconcileTimings Timings { get; init; } = ReconcileTimings.Default;

    /// <summary>
    /// Whether state files are flushed to disk (fsync) before they replace the old ones (default), so they
    /// survive a power loss. A lab fixture turns it off: its labs live no longer than its process, a process
    /// crash loses nothing from the page cache, and where <c>/run</c> is not a tmpfs each flush costs a disk
    /// write (~12 ms on this machine's ext4, two per <c>up</c>).
    /// </summary>
    public bool DurableStateFiles { get; init; } = true;

    /// <summary>How <see cref="VNetEngine.WatchAsync"/> groups events and subscribes.</summary>
    public Watching.WatchSettings Watch { get; init; } = Watching.WatchSettings.Default;
}

/// <summary>Options of one <c>up</c>.</summary>
/// <param name="NoRollback">Keep what a failed run created (default: undo it).</param>
/// <param name="NoWait">Fail at once when another vnet process holds the instance (default: wait).</param>
/// <param name="OnPlanned">Called with the plan before anything is applied (the CLI prints it).</param>
/// <param name="Progress">Told of each kernel step as it is applied.</param>
/// <param name="Owner">
/// The process the lab belongs to (a test fixture's), recorded in the state file from the first write so the
/// lab is reaped when it dies. With an owner, up refuses an instance made by <c>vnet up</c>; anyone's up
/// refuses an instance whose recorded owner is another process that still runs.
/// </param>
public sealed record UpOptions(
    bool NoRollback = false,
    bool NoWait = false,
    Action<Plan>? OnPlanned = null,
    IProgress<ApplyProgress>? Progress = null,
    LabOwner? Owner = null)
{
    /// <summary>Roll back on failure, wait for the lock, no owner.</summary>
    public static UpOptions Default { get; } = new();
}

/// <summary>How an <c>up</c> ended.</summary>
public enum UpStatus
{
    /// <summary>The plan was applied and the kernel now matches the topology.</summary>
    Applied,
    /// <summary>Nothing to do: zero kernel writes.</summary>
    Unchanged,
    /// <summary>Conflicts or errors in the plan: nothing was touched.</summary>
    Refused,
    /// <summary>A step failed (see <see cref="UpResult.Outcome"/>); this run's work was undone unless NoRollback.</summary>
    Failed,
    /// <summary>Applied, but a new observation still differs from the topology (see <see cref="UpResult.Remaining"/>).</summary>
    NotConverged,
    /// <summary>Cancelled (Ctrl+C, SIGTERM): stopped at a step boundary; this run's work was undone unless NoRollback.</summary>
    Interrupted,
}

/// <summary>What an <c>up</c> did.</summary>
/// <param name="Status">How it ended.</param>
/// <param name="Plan">The plan it applied (or refused).</param>
/// <param name="KernelWrites">Mutating driver calls made by this run (rollback included).</param>
/// <param name="Outcome">What applying the plan did; null when nothing was applied.</param>
/// <param name="Remaining">After applying: the plan of what still differs (empty when converged).</param>
/// <param name="NotReady">Links that should be operationally up and were not within the readiness wait.</param>
public sealed record UpResult(
    UpStatus Status,
    Plan Plan,
    int KernelWrites,
    ApplyOutcome? Outcome,
    Plan? Remaining,
    IReadOnlyList<string> NotReady)
{
    /// <summary>The kernel matches the topology.</summary>
    public bool Succeeded => Status is UpStatus.Applied or UpStatus.Unchanged;

    /// <summary>
    /// Why the state file could not be updated after the plan was applied (a full state directory): the lab is
    /// applied and kept, and the state file written before applying still names everything this run created.
    /// </summary>
    public string? StateFileProblem { get; init; }
}

/// <summary>How a <c>down</c> ended.</summary>
public enum DownStatus
{
    /// <summary>Everything owned was removed and is gone.</summary>
    Removed,
    /// <summary>Nothing owned was left.</summary>
    NothingToDo,
    /// <summary>Conflicts or errors in the teardown plan: nothing was touched.</summary>
    Refused,
    /// <summary>A step failed (see <see cref="DownResult.Outcome"/>).</summary>
    Failed,
    /// <summary>Applied, but owned objects were still there when the wait was over (see <see cref="DownResult.Remaining"/>).</summary>
    NotConverged,
    /// <summary>Cancelled (Ctrl+C, SIGTERM) at a step boundary: the state file is kept, so that the next <c>down</c> finishes the work.</summary>
    Interrupted,
}

/// <summary>What a <c>down</c> did.</summary>
/// <param name="Status">How it ended.</param>
/// <param name="Plan">The teardown plan.</param>
/// <param name="KernelWrites">Mutating driver calls made.</param>
/// <param name="Outcome">What applying the plan did; null when nothing was applied.</param>
/// <param name="Remaining">After applying: what is still owned (empty when gone).</param>
public sealed record DownResult(DownStatus Status, Plan Plan, int KernelWrites, ApplyOutcome? Outcome, Plan? Remaining)
{
    /// <summary>Nothing owned is left.</summary>
    public bool Succeeded => Status is DownStatus.Removed or DownStatus.NothingToDo;
}

/// <summary>No state file names the instance, and no topology was given.</summary>
public sealed class UnknownInstanceException(string instance, string directory)
    : Exception($"no instance {instance} is known (no state file in {directory}); 'vnet down FILE' with the lab's --prefix "
        + "and --host-netns finds a lab without its state file through the markers vnet leaves in the kernel")
{
    /// <summary>The instance asked for.</summary>
    public string Instance { get; } = instance;
}

/// <summary>
/// The library API behind the CLI: plan, up, down, status and list of topology instances, through any
/// <see cref="IKernel"/> (the netlink driver, or the in-memory kernel of VNetCompose.Testing). One instance at a
/// time per process is serialized with the other vnet processes by a per-instance lock.
/// </summary>
public sealed partial class VNetEngine
{
    private readonly IKernel _kernel;
    private readonly IOvsDriver? _ovs;
    private readonly ILogger _log;
    private readonly VNetEngineSettings _settings;
    private readonly StateStore _store;
    private readonly PhaseClock _clock;

    /// <summary>An engine over <paramref name="kernel"/>.</summary>
    /// <param name="kernel">The driver: the netlink one, or an in-memory one for tests.</param>
    /// <param name="settings">State directory and timings; defaults otherwise.</param>
    /// <param name="log">Receives every kernel step at Debug level, waits at Information, problems at Warning.</param>
    /// <param name="ovs">The Open vSwitch driver for topologies with <c>ovs_bridges</c> (owned by the caller); without one
    /// such a topology's plan says so.</param>
    public VNetEngine(IKernel kernel, VNetEngineSettings? settings = null, ILogger? log = null, IOvsDriver? ovs = null)
    {
        _kernel = kernel ?? throw new ArgumentNullException(nameof(kernel));
        _ovs = ovs;
        _settings = settings ?? new VNetEngineSettings();
        _log = log ?? NullLogger.Instance;
        _store = new StateStore(_settings.StateDirectory, _settings.DurableStateFiles);
        _clock = new PhaseClock(_log);
    }

    /// <summary>The state files of its state directory.</summary>
    public StateStore Store => _store;

    /// <summary>The Open vSwitch driver it was made with, if any.</summary>
    internal IOvsDriver? Ovs => _ovs;

    /// <summary>The same engine (kernel, settings, log) with another Open vSwitch driver.</summary>
    internal VNetEngine WithOvs(IOvsDriver ovs) => new(_kernel, _settings, _log, ovs);

    /// <summary>What <see cref="Up(Topology, LabOptions, UpOptions?, CancellationToken)"/> would do. Reads only.</summary>
    public Plan Plan(Topology topology, LabOptions options)
    {
        var desired = Desire(topology, options);
        return PlanAgainstKernel(desired, ReadState(desired, options));
    }

    /// <summary>The instance's state file, refused when it belongs to another lab of the same instance name.</summary>
    private InstanceRecord? ReadState(DesiredState desired, LabOptions options)
    {
        var previous = _clock.Time("read state", () => _store.Read(desired.Instance));
        CheckSameLab(previous, desired.Instance, desired.TopologyName!, options.Prefix);
        return previous;
    }

    /// <summary>
    /// Two labs whose instance names are the same string (<c>--prefix a</c> with topology <c>b</c>, and topology
    /// <c>ab</c> without a prefix) would share every marker and the state file, and each would remove the other's
    /// objects: the one applied second is refused.
    /// </summary>
    private static void CheckSameLab(InstanceRecord? previous, string instance, string topologyName, string? prefix)
    {
        if (previous is null || (previous.TopologyName == topologyName && (previous.Options.Prefix ?? "") == (prefix ?? ""))) return;
        static string Lab(string topology, string? prefix) =>
            $"topology '{topology}' " + (string.IsNullOrEmpty(prefix) ? "without a prefix" : $"with --prefix '{prefix}'");
        throw new InvalidLabOptionsException($"instance {instance} is up as {Lab(previous.TopologyName, previous.Options.Prefix)}"
            + (previous.TopologyPath is { } path ? $" ({NameRules.Printable(path)})" : "")
            + $"; this is {Lab(topologyName, prefix)}, and the two would own each other's objects: choose another --prefix, or take that lab down first");
    }

    private Plan PlanAgainstKernel(DesiredState desired, InstanceRecord? previous) => ObserveAndPlan(desired, previous).Plan;

    private (Plan Plan, ObservedState Observed) ObserveAndPlan(DesiredState desired, InstanceRecord? previous)
    {
        var observed = _clock.Time("observe", () => ObserveSettled(desired, previous));
        return (_clock.Time("plan", () => Planner.Plan(desired, observed)), observed);
    }

    /// <summary>
    /// Observes; while a declared namespace vnet did not create is listed but not mounted, observes again
    /// (bounded by <see cref="ReconcileTimings.NamespaceCreationTimeout"/>): another process is most likely between
    /// creating its /run/netns entry and mounting it (parallel runs sharing a new --host-netns). What is still
    /// half-created after the wait is left to the planner, which refuses it.
    /// </summary>
    private ObservedState ObserveSettled(DesiredState desired, InstanceRecord? previous)
    {
        var deadline = DateTime.UtcNow + _settings.Timings.NamespaceCreationTimeout;
        var backoff = new PollBackoff(_settings.Timings.PollInterval);
        var ours = (previous?.Holdings.CreatedNamespaces ?? []).ToHashSet(StringComparer.Ordinal);
        while (true)
        {
            var observed = Observer.Observe(_kernel, desired, previous, ovs: _ovs);
            bool creatingElsewhere = desired.Namespaces.Any(n => observed.IsBroken(n.Id) && !ours.Contains(n.Id.Name!));
            if (!creatingElsewhere || DateTime.UtcNow >= deadline) return observed;
            _log.Debug("a namespace of the topology is being created by another process: observing again");
            backoff.Wait(CancellationToken.None);
        }
    }

    /// <summary>The plan that <see cref="Down(Topology, LabOptions, bool, CancellationToken, IProgress{ApplyProgress})"/> would apply.</summary>
    public Plan TeardownPlan(Topology topology, LabOptions options)
    {
        var declared = Desire(topology, options);
        return TeardownPlan(declared.Instance, ReadState(declared, options), declared.Namespaces.Select(n => n.Id).ToList(),
            declared.OvsBridges.Count > 0);
    }

    private Plan TeardownPlan(string instance, InstanceRecord? previous, IReadOnlyCollection<NetnsId> alsoConcerned, bool alsoOvs = false)
    {
        var desired = DesiredState.Teardown(instance);
        var observed = _clock.Time("observe", () => Observer.Observe(_kernel, desired, previous, alsoConcerned, _ovs, alsoOvs));
        return _clock.Time("plan", () => Planner.Plan(desired, observed));
    }

    /// <summary>Makes the kernel match the topology: plan, apply, verify; a no-op when it already does.</summary>
    public UpResult Up(Topology topology, LabOptions options, UpOptions? up = null, CancellationToken cancellationToken = default) =>
        Up(topology, options, up, focus: null, cancellationToken);

    /// <summary>Up, with every plan narrowed by <paramref name="focus"/> (<see cref="Shape"/>).</summary>
    /// <param name="topology">The topology.</param>
    /// <param name="options">Where the lab lives.</param>
    /// <param name="up">Rollback, waiting, the owner.</param>
    /// <param name="focus">Narrows every plan (the one applied and those verifying it) to some of its objects; null for all.</param>
    /// <param name="cancellationToken">Stops between steps.</param>
    private UpResult Up(Topology topology, LabOptions options, UpOptions? up, Func<Plan, Plan>? focus, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(topology);
        focus ??= plan => plan;
        up ??= UpOptions.Default;
        var desired = Desire(topology, options);
        using var held = _clock.Time("lock", () => InstanceLock.Acquire(_store.Directory, desired.Instance, up.NoWait, _log, cancellationToken));
        var previous = ReadState(desired, options);
        CheckHolder(desired.Instance, previous, up.Owner);
        var plan = focus(PlanAgainstKernel(desired, previous));
        up.OnPlanned?.Invoke(plan);
        if (!plan.CanApply) return new UpResult(UpStatus.Refused, plan, 0, null, null, []);

        var final = Record(desired.Instance, topology, options, plan.Holdings) with { Owner = up.Owner };
        if (!plan.HasChanges)
        {
            if (previous is null || !previous.Holdings.Equivalent(final.Holdings) || previous.Owner != final.Owner) _store.Write(final);
            _log.Debug("no changes: {Writes} kernel writes", 0);
            return new UpResult(UpStatus.Unchanged, plan, 0, null, null, []);
        }

        // Interrupted before the first write: nothing to undo (OperationCanceledException, as while waiting for the lock).
        cancellationToken.ThrowIfCancellationRequested();
        // Intent first: a crash after any kernel write leaves a state file naming everything this run may create
        // (without inodes for the namespaces it creates: those are new ones).
        _store.Write(final with { Holdings = plan.Holdings.Union(previous?.Holdings ?? Holdings.None).Forgetting(CreatedBy(plan)) });
        var counting = new CountingKernel(_kernel, _ovs);
        var reconciler = new Reconciler(counting, _log, _settings.Timings);
        var outcome = _clock.Time("apply", () => reconciler.Apply(plan, !up.NoRollback, up.Progress, cancellationToken));
        if (outcome.CreatedByOthers.Count > 0)
        {
            // Created by a parallel run between our plan and our apply: theirs, used like a pre-existing namespace.
            final = final with { Holdings = final.Holdings with
            {
                CreatedNamespaces = final.Holdings.CreatedNamespaces.Except(outcome.CreatedByOthers, StringComparer.Ordinal).ToList(),
            } };
        }
        if (!outcome.Succeeded)
        {
            if (RecordAfterFailure(final, plan, previous, outcome)) held.DeleteFile();
            return new UpResult(outcome.Interrupted ? UpStatus.Interrupted : UpStatus.Failed, plan, counting.Writes, outcome, null, []);
        }
        final = final with { Holdings = WithInodes(final.Holdings) };

        string? stateProblem = TryWrite(final);
        try
        {
            cancellationToken.ThrowIfCancellationRequested(); // a signal during the last step is honoured too
            ObservedState? verified = null;
            var remaining = _clock.Time("verify", () => Converge(() =>
            {
                (var current, verified) = ObserveAndPlan(desired, final);
                return focus(current);
            }, cancellationToken));
            if (remaining.HasChanges)
                return new UpResult(UpStatus.NotConverged, plan, counting.Writes, outcome, remaining, []) { StateFileProblem = stateProblem };
            var notReady = _clock.Time("readiness", () => AwaitReadiness(desired, verified!.Snapshots, cancellationToken));
            _log.Debug("applied {Changes} changes with {Writes} kernel writes", plan.Changes.Count, counting.Writes);
            return new UpResult(UpStatus.Applied, plan, counting.Writes, outcome, remaining, notReady) { StateFileProblem = stateProblem };
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Interrupted while verifying: every step was applied; undo them all unless told to keep them.
            if (up.NoRollback)
                return new UpResult(UpStatus.Interrupted, plan, counting.Writes, outcome with { Interrupted = true }, null, []) { StateFileProblem = stateProblem };
            var undone = reconciler.RollBack(outcome);
            if (RecordAfterFailure(final, plan, previous, undone)) held.DeleteFile();
            return new UpResult(UpStatus.Interrupted, plan, counting.Writes, undone, null, []);
        }
    }

    /// <summary>Writes the state file after a successful apply; a failure (a full directory) is reported, not thrown:
    /// the lab is applied and the intent record written before applying still names everything it holds.</summary>
    private string? TryWrite(InstanceRecord record)
    {
        try
        {
            _store.Write(record);
            return null;
        }
        catch (StateFileException e)
        {
            _log.Debug("{Problem}", e.Message);
            return e.Message;
        }
    }

    /// <summary>The desired state of a topology placed by <paramref name="options"/>, refused (before anything is
    /// read or written) when the options are invalid for it.</summary>
    private static DesiredState Desire(Topology topology, LabOptions options)
    {
        ArgumentNullException.ThrowIfNull(topology);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate(topology);
        return DesiredStateBuilder.Build(topology, options);
    }

    /// <summary>The namespaces a plan creates (anew: a recorded inode of that name is another namespace's).</summary>
    private static IEnumerable<string> CreatedBy(Plan plan) => plan.Steps.OfType<CreateNamespaceStep>().Select(s => s.Name);

    /// <summary>The holdings with the inode of each created namespace that has none recorded yet, read now.</summary>
    private Holdings WithInodes(Holdings holdings)
    {
        var inodes = holdings.NamespaceInodes.Where(p => holdings.CreatedNamespaces.Contains(p.Key, StringComparer.Ordinal))
            .ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        foreach (var name in holdings.CreatedNamespaces.Where(n => !inodes.ContainsKey(n)))
        {
            if (_kernel.NamespaceInode(name) is { } inode) inodes[name] = inode;
        }
        return holdings with { NamespaceInodes = inodes };
    }

    /// <summary>A lab held by another process that still runs is never adopted, nor a <c>vnet up</c> lab by a fixture.</summary>
    private static void CheckHolder(string instance, InstanceRecord? previous, LabOwner? owner)
    {
        if (previous is null) return;
        if (previous.Owner is { } holder && holder != owner && holder.Liveness() != OwnerLiveness.Dead)
            throw new InstanceHeldException(instance, holder);
        if (owner is not null && previous.Owner is null) throw new InstanceHeldException(instance, null);
    }

    private InstanceRecord Record(string instance, Topology topology, LabOptions options, Holdings holdings) =>
        new(instance, topology.Name, string.IsNullOrEmpty(topology.SourcePath) ? null : Path.GetFullPath(topology.SourcePath),
            options, holdings, DateTimeOffset.UtcNow);

    /// <summary>
    /// After a failure the state file must still name every namespace vnet created and still exists
    /// (a rolled-back one is gone); with nothing recorded before and every step cleanly undone (no
    /// deletes, which cannot be) it is removed. Returns whether it was removed.
    /// </summary>
    private bool RecordAfterFailure(InstanceRecord final, Plan plan, InstanceRecord? previous, ApplyOutcome outcome)
    {
        var existing = _kernel.ListNamespaces().ToHashSet(StringComparer.Ordinal);
        var union = plan.Holdings.Union(previous?.Holdings ?? Holdings.None).Forgetting(CreatedBy(plan));
        var held = WithInodes(union with
        {
            CreatedNamespaces = union.CreatedNamespaces.Where(n => existing.Contains(n) && !outcome.CreatedByOthers.Contains(n)).ToList(),
        });
        bool nothingHeld = previous is null && outcome.RolledBack && outcome.RollbackErrors.Count == 0
            && !plan.Steps.Any(s => s.IsDelete);
        if (nothingHeld) _store.Delete(final.Instance);
        else _store.Write(final with { Holdings = held });
        return nothingHeld;
    }

    /// <summary>
    /// Removes everything the instance owns: found from the topology and its state file. Cancelled, it stops at
    /// a step boundary and keeps the state file, so that the next <c>down</c> finishes the work.
    /// </summary>
    public DownResult Down(Topology topology, LabOptions options, bool noWait = false, CancellationToken cancellationToken = default,
        IProgress<ApplyProgress>? progress = null)
    {
        var declared = Desire(topology, options);
        return Down(declared.Instance, declared.Namespaces.Select(n => n.Id).ToList(), noWait, requireRecord: false, cancellationToken, progress,
            declared.OvsBridges.Count > 0, previous => CheckSameLab(previous, declared.Instance, declared.TopologyName!, options.Prefix),
            (plan, previous) => previous is null ? WithoutStateFile(plan, declared) : plan);
    }

    /// <summary>
    /// A teardown found through the kernel's markers alone: the values sysctls had before vnet changed them in
    /// namespaces it keeps were only in the state file, so they stay as they are: said so.
    /// </summary>
    private static Plan WithoutStateFile(Plan plan, DesiredState declared)
    {
        var deleted = plan.Steps.OfType<DeleteNamespaceStep>().Select(s => NetnsId.Named(s.Name)).ToHashSet();
        var kept = declared.Namespaces.Where(n => n.Sysctls.Count > 0 && !deleted.Contains(n.Id))
            .Select(n => $"{string.Join(", ", n.Sysctls.Select(s => s.Key))} in {Ownership.Display(n.Id)}").ToList();
        if (kept.Count == 0) return plan;
        return plan with
        {
            Problems = [.. plan.Problems, PlanProblem.Warning($"no state file for {plan.Instance}: the lab was found through the markers vnet leaves in the kernel, "
                + $"but the values the sysctls had before vnet changed them are unknown, so they are left as they are ({string.Join("; ", kept)})")],
        };
    }

    /// <summary>Removes everything the instance owns, from its state file alone (the topology may have changed or be gone).</summary>
    public DownResult Down(string instance, bool noWait = false, CancellationToken cancellationToken = default,
        IProgress<ApplyProgress>? progress = null)
    {
        LabOptions.ValidateInstance(instance);
        return Down(instance, [], noWait, requireRecord: true, cancellationToken, progress);
    }

    private DownResult Down(string instance, IReadOnlyCollection<NetnsId> declared, bool noWait, bool requireRecord,
        CancellationToken cancellationToken, IProgress<ApplyProgress>? progress, bool declaresOvs = false, Action<InstanceRecord?>? check = null,
        Func<Plan, InstanceRecord?, Plan>? explain = null)
    {
        using var held = _clock.Time("lock", () => InstanceLock.Acquire(_store.Directory, instance, noWait, _log, cancellationToken));
        var previous = _clock.Time("read state", () => _store.Read(instance));
        if (previous is null && requireRecord) throw new UnknownInstanceException(instance, _store.Directory);
        check?.Invoke(previous);
        var plan = TeardownPlan(instance, previous, declared, declaresOvs);
        if (explain is not null) plan = explain(plan, previous);
        if (!plan.CanApply) return new DownResult(DownStatus.Refused, plan, 0, null, null);
        if (!plan.HasChanges)
        {
            _store.Delete(instance);
            held.DeleteFile();
            return new DownResult(DownStatus.NothingToDo, plan, 0, null, null);
        }

        cancellationToken.ThrowIfCancellationRequested();
        var counting = new CountingKernel(_kernel, _ovs);
        var outcome = _clock.Time("apply", () => new Reconciler(counting, _log, _settings.Timings).Apply(plan, rollback: false, progress, cancellationToken));
        if (!outcome.Succeeded)
            return new DownResult(outcome.Interrupted ? DownStatus.Interrupted : DownStatus.Failed, plan, counting.Writes, outcome, null);

        // Links of deleted namespaces (and their veth peers elsewhere) vanish asynchronously: wait until they are gone.
        Plan remaining;
        try
        {
            remaining = _clock.Time("verify", () => Converge(() => TeardownPlan(instance, previous, declared, declaresOvs), cancellationToken));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return new DownResult(DownStatus.Interrupted, plan, counting.Writes, outcome with { Interrupted = true }, null);
        }
        if (remaining.HasChanges) return new DownResult(DownStatus.NotConverged, plan, counting.Writes, outcome, remaining);
        _store.Delete(instance);
        held.DeleteFile();
        return new DownResult(DownStatus.Removed, plan, counting.Writes, outcome, remaining);
    }

    /// <summary>Each declared object: ok, missing, drifted (with the difference) or foreign.</summary>
    public StatusReport Status(Topology topology, LabOptions options) => StatusReport.ForTopology(Plan(topology, options));

    /// <summary>Every object an instance known by its state file owns (<see cref="OwnedObjects"/>).</summary>
    public StatusReport Status(string instance)
    {
        LabOptions.ValidateInstance(instance);
        var previous = _store.Read(instance) ?? throw new UnknownInstanceException(instance, _store.Directory);
        var desired = DesiredState.Teardown(instance);
        var observed = _clock.Time("observe", () => Observer.Observe(_kernel, desired, previous, [], _ovs));
        var teardown = _clock.Time("plan", () => Planner.Plan(desired, observed));
        return StatusReport.ForInstance(teardown, OwnedObjects.Of(_kernel, observed, instance));
    }

    /// <summary>Instances with a state file: the topologies that are up.</summary>
    public IReadOnlyList<InstanceRecord> List() => _store.List();

    /// <summary>Every state file: its record, or why it cannot be read.</summary>
    public IReadOnlyList<StateEntry> Entries() => _store.Entries();

    /// <summary>Re-plans until the plan is empty or the convergence wait is over; returns the last plan.</summary>
    private Plan Converge(Func<Plan> plan, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + _settings.Timings.ConvergenceTimeout;
        var backoff = new PollBackoff(_settings.Timings.PollInterval);
        while (true)
        {
            var current = plan();
            if (!current.HasChanges || DateTime.UtcNow >= deadline) return current;
            _log.Debug("waiting for the kernel to settle: {Changes} changes left", current.Changes.Count);
            backoff.Wait(cancellationToken);
        }
    }

    /// <summary>
    /// Waits (bounded) until links that should carry traffic are operationally up: veth ends whose both
    /// ends are up, and bridges without STP with such a port. Returns those that are not. The first look
    /// is at <paramref name="verified"/>, the observation that showed the kernel converged.
    /// </summary>
    private IReadOnlyList<string> AwaitReadiness(DesiredState desired, IReadOnlyDictionary<NetnsId, NamespaceSnapshot> verified,
        CancellationToken cancellationToken)
    {
        var live = desired.Veths.Where(v => v.A.Up && v.B.Up).SelectMany(v => new[] { v.A, v.B }).ToList();
        var expected = live.Select(l => (l.Namespace, l.Name))
            // With STP a bridge carries traffic only after its ports' forward delay (2 x 15 s): not waited for.
            .Concat(desired.Switches.Where(b => b.Up && b.Data is BridgeData { Stp: false } && live.Any(l => l.Namespace == b.Namespace && l.Master == b.Name))
                .Select(b => (b.Namespace, b.Name)))
            .ToList();
        if (expected.Count == 0) return [];
        var deadline = DateTime.UtcNow + _settings.Timings.ReadinessTimeout;
        var backoff = new PollBackoff(_settings.Timings.PollInterval);
        var snapshots = verified;
        while (true)
        {
            var indexes = new SnapshotIndex.Cache(snapshots);
            var down = expected.Where(e => indexes.Of(e.Namespace)?.FindLink(e.Name)?.OperState != "UP")
                .Select(e => $"{Ownership.Display(e.Namespace)}/{e.Name}").ToList();
            if (down.Count == 0) return [];
            if (DateTime.UtcNow >= deadline)
            {
                _log.Warn("links not operationally up after {Seconds} s: {Links}", _settings.Timings.ReadinessTimeout.TotalSeconds,
                    string.Join(", ", down));
                return down;
            }
            backoff.Wait(cancellationToken);
            snapshots = _kernel.Observe(expected.Select(e => e.Namespace).Distinct().ToList());
        }
    }
}
