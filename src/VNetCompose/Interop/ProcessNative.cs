using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace VNetCompose.Interop;

/// <summary>The system calls of the lab reaper: waiting for a process to exit, leaving the session, closing stdio.</summary>
internal static unsafe class ProcessNative
{
    /// <summary>pidfd_open(2): include/uapi/asm-generic/unistd.h and arch/x86/entry/syscalls/syscall_64.tbl (434 on both).</summary>
    private const int SysPidfdOpen = 434;

    /// <summary>A pidfd (readable once the process exits) for <paramref name="pid"/>; -errno on failure (ESRCH: gone; ENOSYS: kernel older than 5.3).</summary>
    public static int PidfdOpen(int pid)
    {
        int fd = (int)syscall(SysPidfdOpen, pid, 0);
        return fd >= 0 ? fd : -errno;
    }

    /// <summary>Waits up to <paramref name="timeoutMs"/> for <paramref name="fd"/> to be readable: 1 readable, 0 timeout, -errno.</summary>
    public static int WaitReadable(int fd, int timeoutMs)
    {
        var entry = new pollfd { fd = fd, events = (short)POLLIN };
        int rc = poll(&entry, 1, timeoutMs);
        if (rc < 0) return errno == EINTR ? 0 : -errno;
        return rc;
    }

    public static void Close(int fd) => close(fd);

    /// <summary>setsid(2): a session and process group of its own, so a terminal's Ctrl+C or a kill of the owner's group misses it.</summary>
    public static void NewSession() => setsid();

    /// <summary>Points stdin, stdout and stderr at /dev/null: the pipes to whoever started the process are let go.</summary>
    public static void DetachStandardStreams()
    {
        byte* path = stackalloc byte[] { (byte)'/', (byte)'d', (byte)'e', (byte)'v', (byte)'/', (byte)'n', (byte)'u', (byte)'l', (byte)'l', 0 };
        int fd = open(path, O_RDWR);
        if (fd < 0) return;
        for (int target = 0; target <= 2; target++) dup2(fd, target);
        if (fd > 2) close(fd);
    }
}
