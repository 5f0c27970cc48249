using VNetCompose.Core.Interop;

namespace VNetCompose.Core.State;

/// <summary>Another vnet run holds the instance (and --no-wait was given).</summary>
public sealed class InstanceBusyException(string instance, string lockPath)
    : Exception($"another vnet process is working on {instance} (lock {lockPath} is held)")
{
    public string Instance { get; } = instance;
}

/// <summary>
/// Serializes up/down of one instance across processes: an exclusive lock on
/// <c>&lt;state dir&gt;/&lt;instance&gt;.lock</c> (opened with O_NOFOLLOW in a directory only its user can write),
/// released on dispose or when the process dies.
/// </summary>
public sealed class InstanceLock : IDisposable
{
    private readonly OfdLock _lock;

    private InstanceLock(OfdLock held) => _lock = held;

    /// <summary>
    /// Takes the lock. When another process holds it: with <paramref name="noWait"/> throws
    /// <see cref="InstanceBusyException"/>, otherwise says so once through <paramref name="log"/> and waits.
    /// </summary>
    public static InstanceLock Acquire(string directory, string instance, bool noWait, IVNetLog log,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(log);
        LabOptions.ValidateInstance(instance);
        string name = instance + ".lock";
        string path = Path.Combine(directory, name);
        OfdLock waiting;
        using (var state = StateDirectory.Open(directory, create: true)!) waiting = new OfdLock(state.OpenLockFile(name), path);
        try
        {
            if (waiting.TryLock()) return new InstanceLock(waiting);
        }
        catch
        {
            waiting.Dispose();
            throw;
        }
        if (noWait)
        {
            waiting.Dispose();
            throw new InstanceBusyException(instance, path);
        }
        log.Info("waiting for another vnet process working on {Instance} (lock {Path})", instance, path);
        try
        {
            while (!waiting.TryLock())
            {
                cancellationToken.WaitHandle.WaitOne(TimeSpan.FromMilliseconds(50));
                cancellationToken.ThrowIfCancellationRequested();
            }
        }
        catch
        {
            waiting.Dispose();
            throw;
        }
        return new InstanceLock(waiting);
    }

    public void Dispose() => _lock.Dispose();
}
