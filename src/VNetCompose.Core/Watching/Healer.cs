using Microsoft.Extensions.Logging;
using VNetCompose.Core.Apply;
using VNetCompose.Core.Planning;
using VNetCompose.Core.State;
using VNetCompose.Kernel;
using VNetCompose.Kernel.Ovs;

namespace VNetCompose.Core.Watching;

internal enum HealStatus { Applied, Failed, Busy, Cancelled }

/// <param name="Status">Whether the repair was applied, failed, skipped (another vnet process at work) or cancelled.</param>
/// <param name="Record">The state file after the repair (written only when the plan changes what vnet holds).</param>
/// <param name="KernelWrites">Mutating kernel calls the repair made (its undo included).</param>
/// <param name="Failure">The failing step and the kernel's words, when <see cref="HealStatus.Failed"/>.</param>
internal sealed record HealOutcome(HealStatus Status, InstanceRecord Record, int KernelWrites, string? Failure = null);

/// <summary>
/// Applies the plan that repairs a drift, as <c>up</c> would: under the instance lock (never waiting: another
/// vnet process at work on the lab is left to finish), marked as a repair for other watches, through the <see cref="Reconciler"/> with its
/// retries and undo. The plan of a lab that was ok before holds only the drifted objects: the planner
/// already is minimal, and its ownership rules and conflicts are the same as <c>up</c>'s.
/// </summary>
internal sealed class Healer(IKernel kernel, IOvsDriver? ovs, StateStore store, ILogger log, ReconcileTimings timings)
{
    public HealOutcome Apply(Plan plan, InstanceRecord record, CancellationToken cancellationToken)
    {
        InstanceLock held;
        try
        {
            held = InstanceLock.Acquire(store.Directory, record.Instance, noWait: true, log, cancellationToken);
        }
        catch (InstanceBusyException)
        {
            return new HealOutcome(HealStatus.Busy, record, 0);
        }
        using (held)
        {
            InstanceActivity.MarkHeal(store, record.Instance); // other watches report this as a repair, not an up
            bool holdingsChange = !record.Holdings.Equivalent(plan.Holdings);
            var final = holdingsChange ? record with { Holdings = plan.Holdings, UpdatedAt = DateTimeOffset.UtcNow } : record;
            // Intent first, as up does: a crash after a kernel write leaves a state file naming all the repair may create.
            if (holdingsChange) store.Write(final with { Holdings = plan.Holdings.Union(record.Holdings) });
            var counting = new CountingKernel(kernel, ovs);
            ApplyOutcome outcome;
            try
            {
                outcome = new Reconciler(counting, log, timings).Apply(plan, rollback: true, progress: null, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return new HealOutcome(HealStatus.Cancelled, record, counting.Writes);
            }
            if (outcome.Failure is { } failure)
            {
                string undone = outcome.RollbackErrors.Count == 0 ? "what the repair did was undone"
                    : "undoing failed: " + string.Join("; ", outcome.RollbackErrors);
                return new HealOutcome(HealStatus.Failed, record, counting.Writes,
                    $"step failed: {failure.Step.Describe()}: {failure.Error.Message}; {undone}");
            }
            if (holdingsChange) store.Write(final);
            return new HealOutcome(HealStatus.Applied, final, counting.Writes);
        }
    }
}
