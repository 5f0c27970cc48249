using Microsoft.Extensions.Logging;
using VNetCompose.Core.Interop;

namespace VNetCompose.Core.State;

/// <summary>Another vnet run holds the instance (and --no-wait was given).</summary>
public sealed class InstanceBusyException(string instance, string lockPath)
    : Exception($"another vnet process is working on {instance} (lock {lockPath} is held)")
{
    /// <summary>The instance asked for.</summary>
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
    private readonly string _directory;
    private readonly string _instance;

    private InstanceLock(OfdLock held, string directory, string instance)
    {
        _lock = held;
        _directory = directory;
        _instance = instance;
    }

    /// <summary>
    /// Takes the lock. When another process holds it: with <paramref name="noWait"/> throws
    /// <see cref="InstanceBusyException"/>, otherwise says so once through <paramref name="log"/> and waits.
    /// </summary>
    public static InstanceLock Acquire(string directory, string instance, bool noWait, ILogger log,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(log);
        string path = PathOf(directory, instance);
        bool saidWaiting = false;
        while (true)
        {
            var held = AcquireFile(directory, instance, path, noWait, log, ref saidWaiting, cancellationToken);
            // The holder before us may have removed the file (DeleteFile): then lock the path's new file.
            if (held.IsStillAt(path)) return new InstanceLock(held, directory, instance);
            held.Dispose();
        }
    }

    private static OfdLock AcquireFile(string directory, string instance, string path, bool noWait, ILogger log, ref bool saidWaiting,
        CancellationToken cancellationToken)
    {
        OfdLock waiting = OpenUnlocked(directory, instance);
        try
        {
            if (waiting.TryLock()) return waiting;
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
        if (!saidWaiting) log.Info("waiting for another vnet process working on {Instance} (lock {Path})", instance, path);
        saidWaiting = true;
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
        return waiting;
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

    /// <summary>
    /// Removes the lock file (through the state directory, never through a link), still holding the lock, once the
    /// instance is gone (no state file): nothing is left in the state directory. A process waiting on the removed
    /// file finds it unlinked once it gets the lock and locks the path's new file instead, so two holders never overlap.
    /// </summary>
    public void DeleteFile()
    {
        using var state = StateDirectory.Open(_directory, create: false);
        state?.Delete(_instance + ".lock");
    }

    /// <summary>The lock file of an instance.</summary>
    internal static string PathOf(string directory, string instance) => Path.Combine(directory, instance + ".lock");

    /// <summary>Releases the lock.</summary>
    public void Dispose() => _lock.Dispose();
}
