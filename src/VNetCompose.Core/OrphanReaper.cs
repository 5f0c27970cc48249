using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using VNetCompose.Core.State;
using VNetCompose.Kernel;
using VNetCompose.Kernel.Ovs;

namespace VNetCompose.Core;

/// <summary>An instance whose owner died, and what tearing it down gave.</summary>
/// <param name="Record">Its state file as it was found.</param>
/// <param name="Result">The teardown; null when it could not run (see <paramref name="Error"/>).</param>
/// <param name="Error">Why it was not torn down (busy, a kernel refusal); null when it was.</param>
public sealed record ReapedInstance(InstanceRecord Record, DownResult? Result, string? Error)
{
    /// <summary>Nothing of the instance is left.</summary>
    public bool Removed => Result?.Succeeded == true;
}

/// <summary>
/// Tears down the labs whose owner (a test fixture's process, <see cref="LabOwner"/>) has died: what the lab
/// reaper does when its owner exits, what every fixture start and <c>vnet gc</c> do for any owner. Labs
/// without an owner (<c>vnet up</c>) and labs of owners that still run, or that this process cannot judge
/// (another pid namespace), are left alone.
/// </summary>
/// <param name="engine">The engine whose state directory is searched and whose teardown is used.</param>
/// <param name="log">Receives what was reaped (Debug) and what could not be (Warning).</param>
/// <param name="ovsdb">
/// Opens an Open vSwitch driver for the ovsdb-server endpoint a lab's state file records, so the bridges and ports
/// of a lab with <c>ovs_bridges</c> go with it even when <paramref name="engine"/> talks to another server or to
/// none (the reaper process, <c>vnet gc</c>); null: the engine's own driver for every lab.
/// </param>
public sealed class OrphanReaper(VNetEngine engine, ILogger? log = null, Func<string, IOvsDriver>? ovsdb = null)
{
    private readonly ILogger _log = log ?? NullLogger.Instance;

    /// <summary>The state files with a dead owner; unreadable ones are skipped (and logged).</summary>
    public IReadOnlyList<InstanceRecord> FindOrphans()
    {
        var found = new List<InstanceRecord>();
        string directory = engine.Store.Directory;
        if (!Directory.Exists(directory)) return found;
        foreach (var file in Directory.GetFiles(directory, "*.json").Order(StringComparer.Ordinal))
        {
            try
            {
                if (engine.Store.Read(Path.GetFileNameWithoutExtension(file)) is { Owner: { } owner } record
                    && owner.Liveness() == OwnerLiveness.Dead)
                {
                    found.Add(record);
                }
            }
            catch (Exception e) when (e is StateFileException or IOException or UnauthorizedAccessException)
            {
                _log.Warn("skipping {File}: {Error}", file, e.Message);
            }
        }
        return found;
    }

    /// <summary>
    /// Tears down every lab with a dead owner, skipping (without waiting) those another vnet process is
    /// working on; returns what was found and done.
    /// </summary>
    public IReadOnlyList<ReapedInstance> Reap(CancellationToken cancellationToken = default)
    {
        var reaped = new List<ReapedInstance>();
        foreach (var record in FindOrphans())
        {
            cancellationToken.ThrowIfCancellationRequested();
            reaped.Add(Reap(record, cancellationToken));
        }
        return reaped;
    }

    private ReapedInstance Reap(InstanceRecord record, CancellationToken cancellationToken)
    {
        IOvsDriver? opened = null;
        try
        {
            var teardown = engine;
            if (record.Holdings.OvsEndpoint is { } endpoint && ovsdb is not null && engine.Ovs?.Endpoint != endpoint)
            {
                opened = ovsdb(endpoint);
                teardown = engine.WithOvs(opened);
            }
            var result = teardown.Down(record.Instance, noWait: true, cancellationToken);
            if (result.Succeeded) _log.Debug("reaped {Instance}: its owner ({Owner}) is gone", record.Instance, record.Owner);
            else _log.Warn("reaping {Instance} (owner {Owner} is gone) failed: {Status}", record.Instance, record.Owner, result.Status);
            return new ReapedInstance(record, result, result.Succeeded ? null : result.Outcome?.Failure?.Error.Message ?? result.Status.ToString());
        }
        catch (UnknownInstanceException)
        {
            return new ReapedInstance(record, null, "already gone"); // reaped by another process meanwhile
        }
        catch (Exception e) when (e is InstanceBusyException or KernelException or OvsException or StateFileException or IOException)
        {
            _log.Warn("reaping {Instance} (owner {Owner} is gone) failed: {Error}", record.Instance, record.Owner, e.Message);
            return new ReapedInstance(record, null, e.Message);
        }
        finally
        {
            opened?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }
}
