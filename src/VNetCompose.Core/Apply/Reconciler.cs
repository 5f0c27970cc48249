using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Polly;
using Polly.Retry;
using VNetCompose.Core.Observation;
using VNetCompose.Core.Planning;
using VNetCompose.Kernel;

namespace VNetCompose.Core.Apply;

/// <summary>Progress of an apply: <paramref name="Done"/> of <paramref name="Total"/> kernel steps.</summary>
public sealed record ApplyProgress(int Done, int Total, string Step);

/// <summary>The failing step of an apply, with the kernel's (or Open vSwitch's) own words: a
/// <see cref="KernelException"/> or an <see cref="Kernel.Ovs.OvsException"/>.</summary>
public sealed record StepFailure(KernelStep Step, PlannedChange Change, Exception Error);

/// <summary>What an apply did.</summary>
/// <param name="Failure">The step that failed; null when every step succeeded (or the apply was interrupted).</param>
/// <param name="StepsApplied">Kernel steps that succeeded before the end, the failure or the interruption.</param>
/// <param name="RolledBack">A failure or an interruption was followed by undoing what this run did.</param>
/// <param name="RollbackErrors">Undo steps the kernel refused (rollback is best effort; a rerun converges).</param>
public sealed record ApplyOutcome(int StepsApplied, StepFailure? Failure, bool RolledBack, IReadOnlyList<string> RollbackErrors)
{
    /// <summary>The apply was cancelled (Ctrl+C, SIGTERM) and stopped at a step boundary.</summary>
    public bool Interrupted { get; init; }

    /// <summary>The inverse of every step applied, oldest first: what undoing this run means.</summary>
    internal IReadOnlyList<KernelStep> Journal { get; init; } = [];

    /// <summary>
    /// Namespaces the plan creates that another process created first (a shared <c>--host-netns</c> of parallel
    /// runs): used as they are, like pre-existing ones, and not owned: never undone or recorded as created.
    /// </summary>
    public IReadOnlyList<string> CreatedByOthers { get; init; } = [];

    /// <summary>Every step succeeded.</summary>
    public bool Succeeded => Failure is null && !Interrupted;
}

/// <summary>Timing of retries and waits; tests shorten them.</summary>
public sealed record ReconcileTimings
{
    /// <summary>The timings the CLI uses.</summary>
    public static ReconcileTimings Default { get; } = new();

    /// <summary>Attempts after the first for transient errors (EBUSY, EAGAIN, ENOBUFS, EINTR).</summary>
    public int TransientRetries { get; init; } = 5;
    /// <summary>The first delay before a retry (doubling after each).</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromMilliseconds(20);
    /// <summary>How long to wait for links that vanish with a deleted namespace or peer (asynchronous in the kernel).</summary>
    public TimeSpan VanishTimeout { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>How long to wait for a converged observation after apply.</summary>
    public TimeSpan ConvergenceTimeout { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>How long to wait for links that should be operationally up (a bridge port can take ~1 s).</summary>
    public TimeSpan ReadinessTimeout { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>How long to wait for a namespace another process is creating (its /run/netns entry exists, not yet mounted).</summary>
    public TimeSpan NamespaceCreationTimeout { get; init; } = TimeSpan.FromSeconds(2);
    /// <summary>The longest pause between two looks at the kernel while waiting (the first is 1 ms).</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(20);
}

/// <summary>
/// Applies a plan step by step through the driver. Transient errors are retried (Polly, bounded
/// exponential backoff); "not found" on a delete is success; the first other failure stops the run and
/// — unless told otherwise — undoes what this run did, newest first, from a journal of inverse steps.
/// </summary>
public sealed class Reconciler
{
    private static readonly int[] NotFound = [Errnos.ENODEV, Errnos.ENOENT, Errnos.ESRCH, Errnos.EADDRNOTAVAIL];
    private readonly IKernel _kernel;
    private readonly ILogger _log;
    private readonly ReconcileTimings _timings;
    private readonly ResiliencePipeline _retry;

    /// <summary>A reconciler applying through <paramref name="kernel"/>, logging each step to <paramref name="log"/> at Debug level.</summary>
    public Reconciler(IKernel kernel, ILogger? log = null, ReconcileTimings? timings = null)
    {
        _kernel = kernel ?? throw new ArgumentNullException(nameof(kernel));
        _log = log ?? NullLogger.Instance;
        _timings = timings ?? ReconcileTimings.Default;
        _retry = _timings.TransientRetries == 0 ? ResiliencePipeline.Empty : new ResiliencePipelineBuilder()
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<KernelException>(e => e.IsTransient),
                MaxRetryAttempts = _timings.TransientRetries,
                BackoffType = DelayBackoffType.Exponential,
                Delay = _timings.RetryDelay,
                OnRetry = args =>
                {
                    _log.Debug("transient kernel error, retry {Attempt}: {Error}", args.AttemptNumber + 1, args.Outcome.Exception?.Message);
                    return default;
                },
            })
            .Build();
    }

    /// <summary>
    /// Applies the plan's steps in order; on a failure stops and, with <paramref name="rollback"/>, undoes
    /// what this run did. Cancellation is checked between steps (<see cref="OperationCanceledException"/>,
    /// without undo: the caller decides).
    /// </summary>
    public ApplyOutcome Apply(Plan plan, bool rollback = true, IProgress<ApplyProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(plan);
        if (!plan.CanApply) throw new InvalidOperationException("the plan has conflicts or errors; nothing may be applied");
        var journal = new List<KernelStep>();
        var createdByOthers = new List<string>();
        var phases = new PhaseTally(_log);
        bool awaitedVanishing = plan.VanishingLinks.Count == 0;
        for (int i = 0; i < plan.Steps.Count; i++)
        {
            var step = plan.Steps[i];
            progress?.Report(new ApplyProgress(i, plan.Steps.Count, step.Describe()));
            // Cancellation is honoured only here, between two steps: a step is never cut in half.
            if (cancellationToken.IsCancellationRequested) return Interrupted(i, journal, createdByOthers, rollback);
            if (!awaitedVanishing && !step.IsDelete)
            {
                try
                {
                    WaitUntilGone(plan.VanishingLinks, cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    return Interrupted(i, journal, createdByOthers, rollback);
                }
                awaitedVanishing = true;
            }
            _log.Debug("{Step}", step.Describe());
            phases.Enter(step.Label);
            try
            {
                Run(step);
            }
            catch (KernelException e) when (e.Errno == Errnos.EEXIST && step is CreateNamespaceStep create
                && CreatedByAnother(create.Name, cancellationToken))
            {
                // Not ours: nothing to undo, nothing to record as created.
                createdByOthers.Add(create.Name);
                continue;
            }
            catch (Exception e) when (e is KernelException or Kernel.Ovs.OvsException)
            {
                var failure = new StepFailure(step, plan.Changes[step.Change], e);
                if (!rollback) return new ApplyOutcome(i, failure, false, []) { Journal = journal, CreatedByOthers = createdByOthers };
                return new ApplyOutcome(i, failure, true, Undo(journal)) { Journal = journal, CreatedByOthers = createdByOthers };
            }
            if (step.Undo() is { } undo) journal.Add(undo);
        }
        phases.Finish();
        progress?.Report(new ApplyProgress(plan.Steps.Count, plan.Steps.Count, "done"));
        return new ApplyOutcome(plan.Steps.Count, null, false, []) { Journal = journal, CreatedByOthers = createdByOthers };
    }

    /// <summary>
    /// After EEXIST creating a namespace the plan saw absent: another process created it since (parallel runs
    /// sharing a new --host-netns). True once it is a mounted namespace (waiting, bounded, while its creator
    /// mounts it); false when it stays unmounted, and the EEXIST stands.
    /// </summary>
    private bool CreatedByAnother(string name, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + _timings.NamespaceCreationTimeout;
        var backoff = new PollBackoff(_timings.PollInterval);
        var id = NetnsId.Named(name);
        while (true)
        {
            try
            {
                _kernel.Observe([id]);
                _log.Info("namespace {Namespace} was created by another process meanwhile: using it (not owned by this run)", name);
                return true;
            }
            catch (KernelException e) when (e.Errno is Errnos.EINVAL or Errnos.ENOENT)
            {
                // Listed but not mounted yet (or gone again): its creator is between creat and mount.
            }
            if (DateTime.UtcNow >= deadline || cancellationToken.IsCancellationRequested) return false;
            backoff.Wait(CancellationToken.None);
        }
    }

    private ApplyOutcome Interrupted(int stepsApplied, List<KernelStep> journal, List<string> createdByOthers, bool rollback)
    {
        _log.Debug("interrupted after {Steps} steps{Undo}", stepsApplied, rollback && journal.Count > 0 ? "; undoing them" : "");
        return new ApplyOutcome(stepsApplied, null, rollback, rollback ? Undo(journal) : []) { Interrupted = true, Journal = journal, CreatedByOthers = createdByOthers };
    }

    /// <summary>
    /// Undoes a whole apply that succeeded (newest first), when the run is interrupted afterwards (while it
    /// verifies or waits for readiness). Never cancelled itself: an undo stopped halfway helps no one.
    /// </summary>
    public ApplyOutcome RollBack(ApplyOutcome applied)
    {
        ArgumentNullException.ThrowIfNull(applied);
        var journal = applied.Journal.ToList();
        _log.Debug("interrupted after applying; undoing {Steps} steps", journal.Count);
        return applied with { RolledBack = true, RollbackErrors = Undo(journal), Interrupted = true };
    }

    /// <summary>Time and step count per phase of an apply, logged at debug level (<c>vnet -v</c>).</summary>
    private sealed class PhaseTally(ILogger log)
    {
        private readonly bool _enabled = log.IsEnabled(LogLevel.Debug);
        private string? _phase;
        private int _steps;
        private long _start;

        public void Enter(string phase)
        {
            if (!_enabled) return;
            if (_phase != phase)
            {
                Finish();
                (_phase, _steps, _start) = (phase, 0, Stopwatch.GetTimestamp());
            }
            _steps++;
        }

        public void Finish()
        {
            if (_phase is not { } phase) return;
            log.Write(LogLevel.Debug, "apply {Phase}: {Steps} steps in {Milliseconds} ms", phase, _steps,
                Math.Round(Stopwatch.GetElapsedTime(_start).TotalMilliseconds, 1));
            _phase = null;
        }
    }

    private void Run(KernelStep step)
    {
        try
        {
            _retry.Execute(static s => s.Step.Apply(s.Kernel), (Step: step, Kernel: _kernel));
        }
        catch (KernelException e) when (step.IsDelete && NotFound.Contains(e.Errno))
        {
            _log.Debug("{Step}: already gone", step.Describe());
        }
    }

    private List<string> Undo(List<KernelStep> journal)
    {
        var errors = new List<string>();
        for (int i = journal.Count - 1; i >= 0; i--)
        {
            _log.Debug("undo: {Step}", journal[i].Describe());
            try
            {
                Run(journal[i]);
            }
            catch (Exception e) when (e is KernelException or Kernel.Ovs.OvsException)
            {
                errors.Add($"{journal[i].Describe()}: {e.Message}");
            }
        }
        return errors;
    }

    /// <summary>Waits (bounded) until links that vanish with a deleted namespace or peer are gone, so their names can be reused.</summary>
    public void WaitUntilGone(IReadOnlyList<LinkRef> links, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(links);
        if (links.Count == 0) return;
        var deadline = DateTime.UtcNow + _timings.VanishTimeout;
        var backoff = new PollBackoff(_timings.PollInterval);
        while (true)
        {
            var named = _kernel.ListNamespaces().ToHashSet(StringComparer.Ordinal);
            var namespaces = links.Select(l => l.Namespace).Distinct().Where(n => n.IsCurrent || named.Contains(n.Name!)).ToList();
            var indexes = new SnapshotIndex.Cache(_kernel.Observe(namespaces));
            var left = links.Where(l => indexes.Of(l.Namespace)?.FindLink(l.Index)?.Name == l.Name).ToList();
            if (left.Count == 0) return;
            if (DateTime.UtcNow >= deadline)
            {
                _log.Warn("links still present after their namespace was deleted: {Links}",
                    string.Join(", ", left.Select(l => $"{Ownership.Display(l.Namespace)}/{l.Name}")));
                return;
            }
            backoff.Wait(cancellationToken);
        }
    }
}
