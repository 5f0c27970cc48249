using System.Text;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace VNetCompose.Core.Interop;

/// <summary>
/// An exclusive open-file-description lock (fcntl F_OFD_SETLK, include/uapi/asm-generic/fcntl.h) on a
/// lock file. Like flock(2) it belongs to the open file, so two holders in one process exclude each
/// other too, and the kernel releases it when the process dies (kill -9 leaves no stale lock).
/// Tmds.LibC has fcntl with <c>struct flock</c> but no flock(2).
/// </summary>
internal sealed unsafe class OfdLock : IDisposable
{
    private int _fd;

    private OfdLock(int fd) => _fd = fd;

    /// <summary>Opens (creating, mode 0600) <paramref name="path"/> and tries to lock it; null when another holder has it.</summary>
    public static OfdLock? TryAcquire(string path, out OfdLock? handleToRetry)
    {
        var handle = Open(path);
        if (handle.TryLock())
        {
            handleToRetry = null;
            return handle;
        }
        handleToRetry = handle;
        return null;
    }

    /// <summary>Opens (creating, mode 0600) <paramref name="path"/> without locking it, to ask <see cref="IsLockedElsewhere"/>.</summary>
    public static OfdLock Open(string path)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(path + "\0");
        int fd;
        fixed (byte* p = bytes) fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0x180 /* 0600 */);
        if (fd < 0) throw new IOException($"cannot open lock file {path}: errno {errno}");
        return new OfdLock(fd);
    }

    /// <summary>Whether another open file (another process, or another holder here) holds the lock now (F_OFD_GETLK).</summary>
    public bool IsLockedElsewhere()
    {
        var request = new flock { l_type = (short)F_WRLCK, l_whence = (short)SEEK_SET, l_start = 0, l_len = 0, l_pid = 0 };
        if (fcntl(_fd, F_OFD_GETLK, &request) != 0) throw new IOException($"cannot query lock: errno {errno}");
        return request.l_type != F_UNLCK;
    }

    /// <summary>One non-blocking attempt; true when the lock is now held.</summary>
    public bool TryLock()
    {
        var request = new flock { l_type = (short)F_WRLCK, l_whence = (short)SEEK_SET, l_start = 0, l_len = 0, l_pid = 0 };
        if (fcntl(_fd, F_OFD_SETLK, &request) == 0) return true;
        int error = errno;
        if (error == EAGAIN || error == EACCES) return false;
        throw new IOException($"cannot lock: errno {error}");
    }

    /// <summary>
    /// Whether <paramref name="path"/> still names the locked file. A holder may unlink the lock file while it
    /// holds it (<see cref="Unlink"/>); whoever locks the unlinked file afterwards must open the path anew.
    /// </summary>
    public bool IsStillAt(string path)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(path + "\0");
        stat locked, named;
        if (fstat(_fd, &locked) != 0) throw new IOException($"cannot stat lock file {path}: errno {errno}");
        int rc;
        fixed (byte* p = bytes) rc = LibC.stat(p, &named);
        return rc == 0 && named.st_dev == locked.st_dev && named.st_ino == locked.st_ino;
    }

    /// <summary>Removes the lock file while holding it; processes waiting on it see <see cref="IsStillAt"/> false.</summary>
    public static void Unlink(string path)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(path + "\0");
        fixed (byte* p = bytes) unlink(p);
    }

    public void Dispose()
    {
        int fd = Interlocked.Exchange(ref _fd, -1);
        if (fd >= 0) close(fd);
    }
}
