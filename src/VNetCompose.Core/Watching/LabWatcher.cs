using Microsoft.Extensions.Logging;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using VNetCompose.Core.Desired;
using VNetCompose.Core.Observation;
using VNetCompose.Core.Planning;
using VNetCompose.Core.State;
using VNetCompose.Kernel;

namespace VNetCompose.Core.Watching;

/// <summary>
/// <c>vnet watch</c>: subscribes to the lab's namespaces, observes once and reports the status, then for each
/// settled burst of events re-reads only the namespaces concerned, plans with the same planner as <c>up</c>
/// and reports what changed in the status. Another vnet process's <c>up</c>/<c>down</c> is reported as one
/// change. With heal, drift is repaired by applying that plan (the planner's ownership rules and conflicts
/// apply; the repair's own events are taken as its echo, not as drift).
/// </summary>
internal sealed class LabWatcher(
    IKernel kernel,
    IKernelEvents events,
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
                    if (_vanishing.Overdue && Refresh(_vanishing.Expire(), Stopwatch.GetTimestamp()) is { } truth) yield return truth;
                    continue;
                }
                if (activity.OtherProcessActive)
                {
                    if (!await Quietly(activity.WaitUntilFreeAsync(cancellationToken)).ConfigureAwait(false)) yield break;
                    if (!await Quietly(Task.Delay(_watch.Settle, cancellationToken)).ConfigureAwait(false)) yield break;
                    burst.Drain(); // the other process's own changes: the observation below reads their result
                    activity.Acknowledge();
                    yield return AfterOtherProcess(ref burst);
                    continue;
                }

                foreach (var lost in changes.OfType<ResyncNeeded>())
                    log.Info("watch: {Namespace}: {Reason}; reading it again", Ownership.Display(lost.Namespace), lost.Reason);
                _vanishing.Track(changes, _observed);
                var affected = changes.Where(e => _scope.Concerns(e, _observed)).Select(e => e.Namespace).ToHashSet();
                if (affected.Count > 0 && Refresh(affected, changes[0].Timestamp) is { } report) yield return report;
                if (heal && !_tracker.Ok)
                {
                    await foreach (var e in HealAsync(burst, activity, cancellationToken).ConfigureAwait(false)) yield return e;
                }
            }
        }
        finally
        {
            _subscription?.Dispose();
        }
    }

    private EventBurst Subscribe()
    {
        _subscription?.Dispose();
        _namespaces = _scope.Namespaces(_record);
        _subscription = events.Subscribe(_namespaces, _watch.Kernel);
        return new EventBurst(_subscription.Events, _watch);
    }

    /// <summary>Every namespace of the lab read again (the start, after another vnet process).</summary>
    private StatusReport ObserveAll()
    {
        _vanishing.Clear();
        _observed = Observer.Observe(kernel, desired, _record);
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

    /// <summary>Reads the namespaces concerned again; the report of what that changed, null when nothing did.</summary>
    private DriftReported? Refresh(IReadOnlySet<NetnsId> affected, long firstEvent)
    {
        var before = _observed;
        long start = Stopwatch.GetTimestamp();
        _observed = Read(affected);
        _drifted.UnionWith(affected);
        long read = Stopwatch.GetTimestamp();
        var status = Status();
        var lines = _tracker.Update(status);
        var notices = _scope.ForeignLinks(before, _observed, affected);
        log.Debug("watch: {Namespaces} namespaces read again in {Read} ms, planned and compared in {Planned} ms: {Lines} lines",
            affected.Count, Math.Round(Stopwatch.GetElapsedTime(start, read).TotalMilliseconds, 2),
            Math.Round(Stopwatch.GetElapsedTime(read).TotalMilliseconds, 2), (lines?.Count ?? 0) + notices.Count);
        if (lines is null && notices.Count == 0) return null;
        return new DriftReported(Now, [.. lines ?? [], .. notices], _tracker.Ok, Stopwatch.GetElapsedTime(firstEvent))
        {
            StatusChanged = lines is not null,
        };
    }

    /// <summary>The namespaces read again, without the links about to vanish.</summary>
    private ObservedState Read(IReadOnlyCollection<NetnsId> namespaces) =>
        _vanishing.Apply(Observer.Refresh(kernel, desired, _record, _observed, namespaces));

    /// <summary>After another vnet process released the instance: its state file says up or down; the lab is read again.</summary>
    private ChangedByVnet AfterOtherProcess(ref EventBurst burst)
    {
        _record = store.Read(desired.Instance);
        if (!_scope.Namespaces(_record).SequenceEqual(_namespaces)) burst = Subscribe();
        var status = ObserveAll();
        int changed = _tracker.CountChanged(status);
        var drift = _tracker.Reset(status);
        _healStreak = 0;
        return _record is null
            ? new ChangedByVnet(Now, "down", changed, [], status.AllOk)
            : new ChangedByVnet(Now, "up", changed, drift, status.AllOk);
    }

    // ------------------------------------------------------------------ heal

    private async IAsyncEnumerable<WatchEvent> HealAsync(EventBurst burst, InstanceActivity activity,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        while (!_tracker.Ok && !cancellationToken.IsCancellationRequested)
        {
            // More changes coming (a script at work): they are read and reported first, the repair waits for the end.
            var guard = TimeSpan.FromTicks(Math.Clamp(3 * burst.Pace.Ticks, _watch.HealSettle.Ticks,
                Math.Max(_watch.HealSettle.Ticks, _watch.MaxSettle.Ticks)));
            if (await burst.MoreWithin(guard, cancellationToken).ConfigureAwait(false)) yield break;
            if (WhyNotHeal() is { } reason)
            {
                if (reason != _lastRefusal) yield return new NotHealed(Now, reason);
                _lastRefusal = reason;
                yield break;
            }
            var drifted = _tracker.Drifted;
            _healStreak = _healStreak > 0 && drifted.Overlaps(_lastHealed) ? _healStreak + 1 : 1;
            _lastHealed = drifted;
            var clock = Stopwatch.StartNew();
            var healer = new Healer(kernel, store, log, settings.Timings);
            // Names held by links about to vanish are created again only once they are gone (the Reconciler waits).
            var plan = _vanishing.Any ? _plan with { VanishingLinks = [.. _plan.VanishingLinks, .. _vanishing.Links] } : _plan;
            var outcome = healer.Apply(plan, _record!, cancellationToken);
            if (outcome.Status == HealStatus.Cancelled) yield break;
            if (outcome.Status == HealStatus.Busy)
            {
                yield return new NotHealed(Now, $"another vnet process is working on {desired.Instance}");
                yield break;
            }
            _record = outcome.Record;
            activity.Acknowledge();

            // The repair's own events: wait for their echo (and for namespaces it created to be subscribed), then read
            // those namespaces and the drifted ones again.
            var created = _plan.Steps.OfType<CreateNamespaceStep>().Select(s => NetnsId.Named(s.Name)).ToHashSet();
            var echo = await burst.EchoAsync(created, cancellationToken).ConfigureAwait(false);
            if (echo is null) yield break;
            var reread = echo.Where(e => _scope.Concerns(e, _observed)).Select(e => e.Namespace).Concat(_drifted).ToHashSet();
            int changes = _plan.Changes.Count;
            var before = _observed;
            _vanishing.Track(echo, _observed);
            _observed = Read(reread);
            var notices = _scope.ForeignLinks(before, _observed, reread); // a foreign link added meanwhile
            var status = Status();
            _tracker.Update(status);
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
