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
        string path = PathOf(directory, instance);
        OfdLock waiting = OpenUnlocked(directory, instance);
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

    /// <summary>
    /// The lock file of an instance, opened (created if missing) the safe way (<see cref="StateDirectory.OpenLockFile"/>)
    /// but not locked: for <see cref="OfdLock.TryLock"/>, or for a watch to ask <see cref="OfdLock.IsLockedElsewhere"/>.
    /// </summary>
    internal static OfdLock OpenUnlocked(string directory, string instance)
    {
        LabOptions.ValidateInstance(instance);
        using var state = StateDirectory.Open(directory, create: true)!;
        return new OfdLock(state.OpenLockFile(instance + ".lock"), PathOf(directory, instance));
    }

    /// <summary>The lock file of an instance.</summary>
    internal static string PathOf(string directory, string instance) => Path.Combine(directory, instance + ".lock");

    public void Dispose() => _lock.Dispose();
}
