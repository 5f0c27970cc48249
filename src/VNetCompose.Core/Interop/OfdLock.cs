using System.Text;
using Tmds.Linux;
using VNetCompose.Kernel;
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
    private readonly string _path;
    private int _fd;

    /// <summary>Takes ownership of <paramref name="fd"/>, an open lock file (see <see cref="StateDirectory.OpenLockFile"/>).</summary>
    public OfdLock(int fd, string path)
    {
        _fd = fd;
        _path = path;
    }

    /// <summary>Whether another open file (another process, or another holder here) holds the lock now (F_OFD_GETLK).</summary>
    public bool IsLockedElsewhere()
    {
        var request = new flock { l_type = (short)F_WRLCK, l_whence = (short)SEEK_SET, l_start = 0, l_len = 0, l_pid = 0 };
        if (fcntl(_fd, F_OFD_GETLK, &request) != 0)
        {
            int error = errno;
            throw new IOException($"cannot query the lock on {_path}: {Errnos.Describe(error)} ({Errnos.Name(error)})");
        }
        return request.l_type != F_UNLCK;
    }

    /// <summary>One non-blocking attempt; true when the lock is now held.</summary>
    public bool TryLock()
    {
        var request = new flock { l_type = (short)F_WRLCK, l_whence = (short)SEEK_SET, l_start = 0, l_len = 0, l_pid = 0 };
        if (fcntl(_fd, F_OFD_SETLK, &request) == 0) return true;
        int error = errno;
        if (error == EAGAIN || error == EACCES) return false;
        throw new IOException($"cannot lock {_path}: {Errnos.Describe(error)} ({Errnos.Name(error)})");
    }

    /// <summary>
    /// Whether <paramref name="path"/> still names the locked file (lstat: a link planted there is not it). A holder
    /// may remove the lock file while it holds it (<see cref="State.InstanceLock.DeleteFile"/>); whoever locks the
    /// removed file afterwards must open the path anew.
    /// </summary>
    public bool IsStillAt(string path)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(path + "\0");
        stat locked, named;
        if (fstat(_fd, &locked) != 0)
        {
            int error = errno;
            throw new IOException($"cannot stat lock file {path}: {Errnos.Describe(error)} ({Errnos.Name(error)})");
        }
        int rc;
        fixed (byte* p = bytes) rc = lstat(p, &named);
        return rc == 0 && named.st_dev == locked.st_dev && named.st_ino == locked.st_ino;
    }

    public void Dispose()
    {
        int fd = Interlocked.Exchange(ref _fd, -1);
        if (fd >= 0) close(fd);
    }
}
