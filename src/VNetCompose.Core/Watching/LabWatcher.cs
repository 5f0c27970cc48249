using Microsoft.Extensions.Logging;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using VNetCompose.Core.Desired;
using VNetCompose.Core.Observation;
using VNetCompose.Core.Planning;
using VNetCompose.Core.State;
using VNetCompose.Kernel;
using VNetCompose.Kernel.Ovs;

namespace VNetCompose.Core.Watching;

/// <summary>
/// <c>vnet watch</c>: subscribes to the lab's namespaces (and to Open vSwitch when the lab has OVS objects and the driver
/// reports changes), observes once and reports the status, then for each settled burst of events re-reads only the
/// namespaces concerned (and Open vSwitch when it changed), plans with the same planner as <c>up</c> and reports what
/// changed in the status and in the plan's warnings. Another vnet process's <c>up</c>/<c>down</c>, or another watch's
/// repair, is reported as one change. With heal, drift is repaired by applying that plan (the planner's ownership rules
/// and conflicts apply; the repair's own events are taken as its echo, not as drift).
/// </summary>
internal sealed class LabWatcher(
    IKernel kernel,
    IKernelEvents events,
    IOvsDriver? ovs,
    DesiredState desired,
    bool heal,
    StateStore store,
    ILogger log,
    VNetEngineSettings settings)
{
    private readonly LabScope _scope = new(desired);
    private readonly DriftTracker _tracker = new();
    private readonly WatchSettings _watch = settings.Watch;
    private readonly VanishingLinks _vanishing = new(settings.Watch.VanishWait);
    private IKernelEventSubscription? _subscription;
    private IKernelEventSubscription? _ovsSubscription;
    private MergedEvents? _merged;
    private IReadOnlyList<NetnsId> _namespaces = [];
    private InstanceRecord? _record;
    private ObservedState _observed = null!;
    private Plan _plan = null!;
    /// <summary>Namespaces read since the lab was last ok: where the drift a heal repairs lives.</summary>
    private readonly HashSet<NetnsId> _drifted = [];
    /// <summary>Repairs in a row of a drift that came back (the same objects drifted again after a repair).</summary>
    private int _healStreak;
    private HashSet<ObjectAddress> _lastHealed = [];
    private string? _lastRefusal;

    private static DateTimeOffset Now => DateTimeOffset.Now;

    public async IAsyncEnumerable<WatchEvent> RunAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var activity = new InstanceActivity(store, desired.Instance);
        _record = store.Read(desired.Instance);
        try
        {
            var burst = Subscribe();
            var status = ObserveAll();
            var drift = _tracker.Reset(status);
            yield return new WatchStarted(Now, desired.Instance, status.Rows.Count, _observed.Snapshots.Count, drift, status.AllOk, status);
            if (heal)
            {
                await foreach (var e in HealAsync(burst, activity, cancellationToken).ConfigureAwait(false)) yield return e;
            }

            while (!cancellationToken.IsCancellationRequested)
            {
                var changes = await burst.NextAsync(_vanishing.TimeLeft, cancellationToken).ConfigureAwait(false);
                if (changes is null) yield break;
                if (changes.Count == 0)
                {
                    // Links predicted to vanish with a deleted namespace did not: read where they are.
                    if (_vanishing.Overdue && Refresh(_vanishing.Expire(), ovsChanged: false, Stopwatch.GetTimestamp()) is { } truth) yield return truth;
                }
                else if (activity.OtherProcessActive)
                {
                    if (!await Quietly(activity.WaitUntilFreeAsync(cancellationToken)).ConfigureAwait(false)) yield break;
                    if (!await Quietly(Task.Delay(_watch.Settle, cancellationToken)).ConfigureAwait(false)) yield break;
                    burst.Drain(); // the other process's own changes: the observation below reads their result
                    bool healed = activity.WasHeal;
                    activity.Acknowledge();
                    yield return AfterOtherProcess(ref burst, healed);
                    continue;
                }
                else if (Changed(changes, burst) is { } report)
                {
                    yield return report;
                }
                if (heal && !_tracker.Ok)
                {
                    await foreach (var e in HealAsync(burst, activity, cancellationToken).ConfigureAwait(false)) yield return e;
                }
            }
        }
        finally
        {
            Unsubscribe();
        }
    }

    /// <summary>What a burst of events changed in the lab (the namespaces concerned read again), or null when nothing did.</summary>
    private DriftReported? Changed(List<KernelEvent> changes, EventBurst burst)
    {
        foreach (var lost in changes.OfType<ResyncNeeded>())
            log.Info("watch: {Namespace}: {Reason}; reading it again", Ownership.Display(lost.Namespace), lost.Reason);
        foreach (var lost in changes.OfType<OvsMonitorLost>())
            log.Warn("watch: Open vSwitch's notifications stopped ({Reason}); its changes are no longer followed", lost.Reason);
        // The vanishing of a deleted namespace's veth peers was reported with the deletion: not read again.
        var affected = changes.Where(e => _scope.Concerns(e, _observed) && !_vanishing.Explains(e)).Select(e => e.Namespace).ToHashSet();
        _vanishing.Track(changes, _observed);
        bool ovsChanged = changes.Any(e => e is OvsEvent or OvsMonitorLost);
        if (affected.Count == 0 && !ovsChanged) return null;
        burst.Counted(changes);
        return Refresh(affected, ovsChanged, changes[0].Timestamp);
    }

    /// <summary>Subscribes to the lab's namespaces, and to Open vSwitch when the lab has OVS objects (when that fails, the
    /// watch goes on without: OVS is then read with the namespaces' changes only, and a line on stderr says so).</summary>
    private EventBurst Subscribe()
    {
        Unsubscribe();
        _namespaces = _scope.Namespaces(_record);
        _subscription = events.Subscribe(_namespaces, _watch.Kernel);
        var reader = _subscription.Events;
        if (_scope.HasOvs(_record) && ovs is IOvsEvents ovsEvents)
        {
            try
            {
                // The OVS driver is asynchronous; subscribing is one round trip, done before the first observation.
                _ovsSubscription = ovsEvents.SubscribeAsync().GetAwaiter().GetResult();
                _merged = new MergedEvents(reader, _ovsSubscription.Events, _watch.Kernel.QueueCapacity);
                reader = _merged.Events;
            }
            catch (OvsException e)
            {
                log.Warn("watch: cannot follow Open vSwitch's changes: {Reason}", e.Message);
            }
        }
        return new EventBurst(reader, _watch);
    }

    private void Unsubscribe()
    {
        _merged?.Dispose();
        _ovsSubscription?.Dispose();
        _subscription?.Dispose();
        (_merged, _ovsSubscription, _subscription) = (null, null, null);
    }

    /// <summary>Every namespace of the lab read again (the start, after another vnet process).</summary>
    private StatusReport ObserveAll()
    {
        _vanishing.Clear();
        _observed = Observer.Observe(kernel, desired, _record, ovs: ovs);
        _drifted.UnionWith(_observed.Snapshots.Keys);
        return Status();
    }

    private StatusReport Status()
    {
        _plan = Planner.Plan(desired, _observed);
        var status = StatusReport.ForTopology(_plan);
        if (status.AllOk)
        {
            _drifted.Clear();
            _lastRefusal = null;
        }
        return status;
    }

    /// <summary>Reads the namespaces concerned (and Open vSwitch when it changed) again; the report of what that changed,
    /// null when nothing did.</summary>
    private DriftReported? Refresh(IReadOnlySet<NetnsId> affected, bool ovsChanged, long firstEvent)
    {
        var before = _observed;
        var warningsBefore = _plan.Warnings.Select(w => w.Message).ToList();
        long start = Stopwatch.GetTimestamp();
        _observed = Read(affected, ovsChanged);
        _drifted.UnionWith(affected);
        long read = Stopwatch.GetTimestamp();
        var status = Status();
        var lines = _tracker.Update(status);
        var notices = _scope.ForeignLinks(before, _observed, affected);
        var warnings = _plan.Warnings.Select(w => w.Message).ToList();
        var (newWarnings, goneWarnings) = (warnings.Except(warningsBefore).ToList(), warningsBefore.Except(warnings).ToList());
        log.Debug("watch: {Namespaces} namespaces{Ovs} read again in {Read} ms, planned and compared in {Planned} ms: {Lines} lines",
            affected.Count, ovsChanged ? " and Open vSwitch" : "", Math.Round(Stopwatch.GetElapsedTime(start, read).TotalMilliseconds, 2),
            Math.Round(Stopwatch.GetElapsedTime(read).TotalMilliseconds, 2), (lines?.Count ?? 0) + notices.Count);
        if (lines is null && notices.Count == 0 && newWarnings.Count == 0 && goneWarnings.Count == 0) return null;
        return new DriftReported(Now, [.. lines ?? [], .. notices], _tracker.Ok, Stopwatch.GetElapsedTime(firstEvent))
        {
            StatusChanged = lines is not null,
            Warnings = newWarnings,
            WarningsGone = goneWarnings,
        };
    }

    /// <summary>The namespaces (and Open vSwitch when <paramref name="ovsChanged"/>) read again, without the links about to vanish.</summary>
    private ObservedState Read(IReadOnlyCollection<NetnsId> namespaces, bool ovsChanged) =>
        _vanishing.Apply(Observer.Refresh(kernel, desired, _record, _observed, namespaces, ovsChanged ? ovs : null));

    /// <summary>After another vnet process released the instance: its state file says up or down (or its heal mark says it was
    /// another watch's repair); the lab is read again.</summary>
    private ChangedByVnet AfterOtherProcess(ref EventBurst burst, bool healed)
    {
        _record = store.Read(desired.Instance);
        if (!_scope.Namespaces(_record).SequenceEqual(_namespaces)) burst = Subscribe();
        var status = ObserveAll();
        int changed = _tracker.CountChanged(status);
        var drift = _tracker.Reset(status);
        _healStreak = 0;
        return _record is null ? new ChangedByVnet(Now, "down", changed, [], status.AllOk)
            : new ChangedByVnet(Now, healed ? "heal" : "up", changed, drift, status.AllOk);
    }

    // ------------------------------------------------------------------ heal

    private async IAsyncEnumerable<WatchEvent> HealAsync(EventBurst burst, InstanceActivity activity,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        while (!_tracker.Ok && !cancellationToken.IsCancellationRequested)
        {
            // More changes coming (a script at work): they are read and reported first, the repair waits for the end. A deleted
            // namespace's veth peers are waited for the same way (their names are free once the kernel's events say so),
            // which saves the Reconciler polling for them.
            var guard = TimeSpan.FromTicks(Math.Clamp(3 * burst.Pace.Ticks, _watch.HealSettle.Ticks,
                Math.Max(_watch.HealSettle.Ticks, _watch.MaxSettle.Ticks)));
            if (_vanishing.TimeLeft is { } vanish && vanish > guard) guard = vanish;
            long waiting = Stopwatch.GetTimestamp();
            if (await burst.MoreWithin(guard, cancellationToken).ConfigureAwait(false)) yield break;
            if (_vanishing.Overdue) yield break; // the peers outlived their namespace: read where they are first
            if (WhyNotHeal() is { } reason)
            {
                if (reason != _lastRefusal) yield return new NotHealed(Now, reason);
                _lastRefusal = reason;
                yield break;
            }
            var drifted = _tracker.Drifted;
            var clock = Stopwatch.StartNew();
            long started = Stopwatch.GetTimestamp();
            var healer = new Healer(kernel, ovs, store, log, settings.Timings);
            // Names held by links about to vanish are created again only once they are gone (the Reconciler waits).
            var plan = _vanishing.Any ? _plan with { VanishingLinks = [.. _plan.VanishingLinks, .. _vanishing.Links] } : _plan;
            var outcome = healer.Apply(plan, _record!, cancellationToken);
            long applied = Stopwatch.GetTimestamp();
            if (outcome.Status == HealStatus.Cancelled) yield break;
            if (outcome.Status == HealStatus.Busy)
            {
                // Another vnet process (an up, a down, another watch's repair) holds the lab: once it is done, its changes
                // come as events and are read (and reported as its work) before anything is repaired.
                if (!await Quietly(activity.WaitUntilFreeAsync(cancellationToken)).ConfigureAwait(false)) yield break;
                continue;
            }
            _healStreak = _healStreak > 0 && drifted.Overlaps(_lastHealed) ? _healStreak + 1 : 1;
            _lastHealed = drifted;
            _record = outcome.Record;
            activity.Acknowledge();

            // The repair's own events: wait for their echo (and for namespaces it created to be subscribed), then read
            // those namespaces and the drifted ones again.
            var created = _plan.Steps.OfType<CreateNamespaceStep>().Select(s => NetnsId.Named(s.Name)).ToHashSet();
            var echo = await burst.EchoAsync(created, cancellationToken).ConfigureAwait(false);
            if (echo is null) yield break;
            long echoed = Stopwatch.GetTimestamp();
            var reread = echo.Where(e => _scope.Concerns(e, _observed)).Select(e => e.Namespace).Concat(_drifted).ToHashSet();
            // (Open vSwitch's own notifications of the repair may come after the kernel's echo: it is read again anyway.)
            bool ovsTouched = _plan.Changes.Any(c => c.Object is OvsBridgeObject or OvsPortObject) || echo.Any(e => e is OvsEvent);
            int changes = _plan.Changes.Count;
            var before = _observed;
            _vanishing.Track(echo, _observed);
            _observed = Read(reread, ovsTouched);
            long read = Stopwatch.GetTimestamp();
            var notices = _scope.ForeignLinks(before, _observed, reread); // a foreign link added meanwhile
            var status = Status();
            _tracker.Update(status);
            log.Debug("watch: repair after {Quiet} ms of quiet (pace {Pace} ms): applied in {Apply} ms, its echo in {Echo} ms, "
                + "{Namespaces} namespaces read again in {Read} ms, planned and compared in {Planned} ms",
                Milliseconds(waiting, started), Math.Round(burst.Pace.TotalMilliseconds, 1), Milliseconds(started, applied), Milliseconds(applied, echoed),
                reread.Count, Milliseconds(echoed, read), Milliseconds(read, Stopwatch.GetTimestamp()));
            if (status.AllOk) _healStreak = 0;
            if (outcome.Failure is { } failure)
            {
                yield return new NotHealed(Now, failure);
                yield break;
            }
            yield return new Healed(Now, changes, outcome.KernelWrites, clock.Elapsed,
                status.Rows.Where(r => r.State != ObjectState.Ok).SelectMany(r => DriftDetail.Lines(r, status.Plan)).ToList(), status.AllOk);
            if (notices.Count > 0) yield return new DriftReported(Now, notices, status.AllOk, clock.Elapsed) { StatusChanged = false };
        }
    }

    private static double Milliseconds(long from, long to) => Math.Round(Stopwatch.GetElapsedTime(from, to).TotalMilliseconds, 2);

    private string? WhyNotHeal()
    {
        if (_record is null)
            return $"{desired.Instance} is not up (no state file): vnet watch repairs only a lab brought up with vnet up";
        if (_plan.Conflicts.Count > 0)
            return "conflict (never forced): " + string.Join("; ", _plan.Conflicts.Select(c => $"{c.Object}: {c.Detail}"));
        if (_plan.Errors.Any()) return "the plan has errors: " + string.Join("; ", _plan.Errors.Select(e => e.Message));
        if (_healStreak >= _watch.HealAttempts && _tracker.Drifted.Overlaps(_lastHealed))
            return $"gave up after {_healStreak} repairs in a row: the drift came back each time";
        return null;
    }

    private static async Task<bool> Quietly(Task task)
    {
        try
        {
            await task.ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
