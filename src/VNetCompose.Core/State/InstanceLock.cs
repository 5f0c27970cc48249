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
/// <c>&lt;state dir&gt;/&lt;instance&gt;.lock</c>, released on dispose or when the process dies.
/// </summary>
public sealed class InstanceLock : IDisposable
{
    private readonly OfdLock _lock;
    private readonly string _path;

    private InstanceLock(OfdLock held, string path)
    {
        _lock = held;
        _path = path;
    }

    /// <summary>
    /// Takes the lock. When another process holds it: with <paramref name="noWait"/> throws
    /// <see cref="InstanceBusyException"/>, otherwise says so once through <paramref name="log"/> and waits.
    /// </summary>
    public static InstanceLock Acquire(string directory, string instance, bool noWait, ILogger log,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(log);
        StateStore.EnsureDirectory(directory);
        string path = PathOf(directory, instance);
        bool saidWaiting = false;
        while (true)
        {
            var held = AcquireFile(path, instance, noWait, log, ref saidWaiting, cancellationToken);
            // The holder before us may have removed the file (DeleteFile): then lock the path's new file.
            if (held.IsStillAt(path)) return new InstanceLock(held, path);
            held.Dispose();
        }
    }

    private static OfdLock AcquireFile(string path, string instance, bool noWait, ILogger log, ref bool saidWaiting,
        CancellationToken cancellationToken)
    {
        var held = OfdLock.TryAcquire(path, out var waiting);
        if (held is not null) return held;
        if (noWait)
        {
            waiting!.Dispose();
            throw new InstanceBusyException(instance, path);
        }
        if (!saidWaiting) log.Info("waiting for another vnet process working on {Instance} (lock {Path})", instance, path);
        saidWaiting = true;
        try
        {
            while (!waiting!.TryLock())
            {
                cancellationToken.WaitHandle.WaitOne(TimeSpan.FromMilliseconds(50));
                cancellationToken.ThrowIfCancellationRequested();
            }
        }
        catch
        {
            waiting!.Dispose();
            throw;
        }
        return waiting;
    }

    /// <summary>
    /// Removes the lock file, still holding the lock, once the instance is gone (no state file): nothing is
    /// left in the state directory. A process waiting on the removed file finds it unlinked once it gets the
    /// lock and locks the path's new file instead, so two holders never overlap.
    /// </summary>
    public void DeleteFile() => OfdLock.Unlink(_path);

    /// <summary>The lock file of an instance.</summary>
    internal static string PathOf(string directory, string instance) => Path.Combine(directory, instance + ".lock");

    /// <summary>Releases the lock.</summary>
    public void Dispose() => _lock.Dispose();
}
