using VNetCompose.Core.Interop;
using VNetCompose.Core.State;

namespace VNetCompose.Core.Watching;

/// <summary>
/// Tells a watch whether the changes it saw come from another vnet process working on the same instance:
/// <c>up</c> and <c>down</c> hold the instance lock from before their first kernel write until after their
/// verification, and write or delete the state file. The watch asks once a burst has settled, holding the
/// lock file open without locking it (F_OFD_GETLK), and remembers the state file's time to see a run that
/// was already over. A <c>down</c> that removes the instance also removes its lock file
/// (<see cref="InstanceLock.DeleteFile"/>), and the next <c>up</c> locks a new file at that path: the watch
/// opens the path again whenever the file it holds is no longer there.
/// </summary>
internal sealed class InstanceActivity : IDisposable
{
    private readonly string _directory;
    private readonly string _instance;
    private readonly string _lockPath;
    private readonly string _stateFile;
    private OfdLock _lock;
    private DateTime? _stateWritten;

    public InstanceActivity(StateStore store, string instance)
    {
        _directory = store.Directory;
        _instance = instance;
        _lockPath = InstanceLock.PathOf(store.Directory, instance);
        _lock = InstanceLock.OpenUnlocked(_directory, instance);
        _stateFile = store.PathOf(instance);
        Acknowledge();
    }

    /// <summary>Another vnet process holds the instance now, or ran since the last <see cref="Acknowledge"/>.</summary>
    public bool OtherProcessActive => LockedElsewhere() || StateWritten() != _stateWritten;

    /// <summary>The state file as it is now is known (read by the watch, or written by its own repair).</summary>
    public void Acknowledge() => _stateWritten = StateWritten();

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

    private DateTime? StateWritten()
    {
        var info = new FileInfo(_stateFile);
        return info.Exists ? info.LastWriteTimeUtc : null;
    }

    public void Dispose() => _lock.Dispose();
}
