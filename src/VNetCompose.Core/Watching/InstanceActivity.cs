using System.Globalization;
using System.Text;
using VNetCompose.Core.Interop;
using VNetCompose.Core.State;

namespace VNetCompose.Core.Watching;

/// <summary>
/// Tells a watch whether the changes it saw come from another vnet process working on the same instance:
/// <c>up</c> and <c>down</c> hold the instance lock from before their first kernel write until after their
/// verification, and write or delete the state file; another watch's repair holds the lock too and first writes the
/// instance's heal mark (<see cref="MarkHeal"/>). The watch asks once a burst has settled, holding the lock file open
/// without locking it (F_OFD_GETLK), and remembers the state file's time and the heal mark to see a run that was
/// already over. A <c>down</c> that removes the instance also removes its lock file
/// (<see cref="InstanceLock.DeleteFile"/>), and the next <c>up</c> locks a new file at that path: the watch
/// opens the path again whenever the file it holds is no longer there.
/// </summary>
internal sealed class InstanceActivity : IDisposable
{
    private readonly string _directory;
    private readonly string _instance;
    private readonly string _lockPath;
    private readonly string _stateFile;
    private readonly string _healMark;
    private OfdLock _lock;
    private DateTime? _stateWritten;
    private string? _lastHeal;

    public InstanceActivity(StateStore store, string instance)
    {
        _directory = store.Directory;
        _instance = instance;
        _lockPath = InstanceLock.PathOf(store.Directory, instance);
        _lock = InstanceLock.OpenUnlocked(_directory, instance);
        _stateFile = store.PathOf(instance);
        _healMark = HealMarkOf(store, instance);
        Acknowledge();
    }

    /// <summary>Another vnet process holds the instance now, or ran since the last <see cref="Acknowledge"/>.</summary>
    public bool OtherProcessActive => LockedElsewhere() || StateWritten() != _stateWritten || LastHeal() != _lastHeal;

    /// <summary>What the other process did, once it is done: another watch's repair (its heal mark changed) or an up/down.</summary>
    public bool WasHeal => LastHeal() != _lastHeal;

    /// <summary>The state file and heal mark as they are now are known (read by the watch, or written by its own repair).</summary>
    public void Acknowledge()
    {
        _stateWritten = StateWritten();
        _lastHeal = LastHeal();
    }

    /// <summary>Waits until no other process holds the instance lock. Polls (from 1 ms, doubling up to 100 ms) only
    /// while another vnet process is at work, which takes a fraction of a second.</summary>
    public async Task WaitUntilFreeAsync(CancellationToken cancellationToken)
    {
        var pause = TimeSpan.FromMilliseconds(1);
        while (LockedElsewhere())
        {
            await Task.Delay(pause, cancellationToken).ConfigureAwait(false);
            pause = TimeSpan.FromMilliseconds(Math.Min(100, pause.TotalMilliseconds * 2));
        }
    }

    /// <summary>Whether another process holds the lock of the file now at the lock path.</summary>
    private bool LockedElsewhere()
    {
        if (!_lock.IsStillAt(_lockPath))
        {
            _lock.Dispose();
            _lock = InstanceLock.OpenUnlocked(_directory, _instance);
        }
        return _lock.IsLockedElsewhere();
    }

    /// <summary>
    /// Marks a repair by a watch, under the instance lock and before its first kernel write, so that other watches tell
    /// it from an <c>up</c>: <c>&lt;state dir&gt;/&lt;instance&gt;.heal</c> holds the process id and the time.
    /// </summary>
    public static void MarkHeal(StateStore store, string instance)
    {
        // Written as every file in the state directory is (O_NOFOLLOW, an exclusive temporary renamed over it).
        using var directory = StateDirectory.Open(store.Directory, create: true)!;
        directory.WriteAtomically(instance + ".heal", Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture,
            $"{Environment.ProcessId} {DateTimeOffset.UtcNow:O}\n")), durable: false);
    }

    private static string HealMarkOf(StateStore store, string instance) => Path.Combine(store.Directory, instance + ".heal");

    private DateTime? StateWritten()
    {
        var info = new FileInfo(_stateFile);
        return info.Exists ? info.LastWriteTimeUtc : null;
    }

    private string? LastHeal()
    {
        try
        {
            return File.ReadAllText(_healMark);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
    }

    public void Dispose() => _lock.Dispose();
}
