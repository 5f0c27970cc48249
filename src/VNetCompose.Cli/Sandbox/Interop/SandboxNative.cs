using System.Runtime.InteropServices;
using System.Text;

namespace VNetCompose.Cli.Sandbox.Interop;

/// <summary>
/// The libc calls of <c>vnet sandbox</c>: descriptors handed across exec (pipes, CLOEXEC), the mounts of the
/// sandbox's own mount namespace, starting and reaping its command as the init of its pid namespace
/// (posix_spawn, waitpid), signals and capabilities. Each returns the call's result or <c>-errno</c>, except
/// where it says otherwise.
/// </summary>
internal static unsafe partial class SandboxNative
{
    // <asm-generic/fcntl.h>
    private const int F_GETFD = 1, F_SETFD = 2, FD_CLOEXEC = 1;
    public const int O_RDONLY = 0, O_DIRECTORY = 0x10000, O_CLOEXEC = 0x80000, O_PATH = 0x200000;
    // <sys/mount.h> (linux/mount.h)
    public const ulong MS_NOSUID = 2, MS_NODEV = 4, MS_NOEXEC = 8, MS_BIND = 4096, MS_REC = 16384;
    // <spawn.h> (glibc): POSIX_SPAWN_SETSIGDEF, POSIX_SPAWN_SETSIGMASK
    private const short PosixSpawnSetSigDef = 0x04, PosixSpawnSetSigMask = 0x08;
    // <sched.h>
    public const int CLONE_NEWNET = 0x40000000;
    // <asm-generic/errno-base.h>
    public const int EINTR = 4, ECHILD = 10;

    /// <summary>A pipe whose two ends are closed on exec (the end to hand over is made inheritable explicitly).</summary>
    public static (int Read, int Write) Pipe()
    {
        int* fds = stackalloc int[2];
        if (pipe2(fds, O_CLOEXEC) != 0) throw Failure("pipe2");
        return (fds[0], fds[1]);
    }

    /// <summary>dup(fd) with the copy closed on exec.</summary>
    public static int DuplicateCloseOnExec(int fd)
    {
        // F_DUPFD_CLOEXEC (<asm-generic/fcntl.h>: F_LINUX_SPECIFIC_BASE + 6)
        int copy = fcntl(fd, 1030, 3);
        return copy < 0 ? throw Failure("fcntl(F_DUPFD_CLOEXEC)") : copy;
    }

    /// <summary>Sets or clears FD_CLOEXEC: a descriptor without it is inherited by programs this process runs.</summary>
    public static void SetCloseOnExec(int fd, bool close)
    {
        int flags = fcntl(fd, F_GETFD, 0);
        if (flags < 0 || fcntl(fd, F_SETFD, close ? flags | FD_CLOEXEC : flags & ~FD_CLOEXEC) < 0)
            throw Failure($"fcntl(F_SETFD) on descriptor {fd}");
    }

    /// <summary>dup2(from, to): makes <paramref name="to"/> refer to what <paramref name="from"/> does.</summary>
    public static int Duplicate(int from, int to) => Result(dup2(from, to));

    public static int Close(int fd) => Result(close(fd));

    public static int Open(string path, int flags)
    {
        fixed (byte* p = Bytes(path)) return Result(open(p, flags, 0));
    }

    /// <summary>mount(2); <paramref name="data"/> is the file system's option string (tmpfs: <c>mode=0755</c>).</summary>
    public static int Mount(string? source, string target, string? type, ulong flags, string? data = null)
    {
        fixed (byte* s = source is null ? null : Bytes(source))
        fixed (byte* t = Bytes(target))
        fixed (byte* f = type is null ? null : Bytes(type))
        fixed (byte* d = data is null ? null : Bytes(data))
        {
            return Result(mount(s, t, f, flags, d));
        }
    }

    public static int SendSignal(int pid, int signal) => Result(kill(pid, signal));

    public static int EffectiveUserId => (int)geteuid();
    public static int RealUserId => (int)getuid();
    public static int RealGroupId => (int)getgid();

    /// <summary>access(path, R_OK | W_OK) by the real user: whether this user may open the file for reading and writing.</summary>
    public static bool CanReadAndWrite(string path)
    {
        // <unistd.h>: R_OK = 4, W_OK = 2
        fixed (byte* p = Bytes(path)) return access(p, 4 | 2) == 0;
    }

    /// <summary>Owner and mode of <paramref name="path"/> itself (a symbolic link is not followed); null when it does not exist.</summary>
    public static (int Owner, uint Mode)? Status(string path)
    {
        // statx(2), <linux/stat.h>: AT_FDCWD = -100, AT_SYMLINK_NOFOLLOW = 0x100, STATX_TYPE | STATX_MODE | STATX_UID = 0x1 | 0x2 | 0x8.
        byte* buffer = stackalloc byte[256];
        int rc;
        fixed (byte* p = Bytes(path)) rc = statx(-100, p, 0x100, 0x1 | 0x2 | 0x8, buffer);
        if (rc != 0) return Marshal.GetLastPInvokeError() == 2 ? null : throw Failure($"statx {path}");
        // struct statx: stx_mask u32 @0, stx_blksize u32 @4, stx_attributes u64 @8, stx_nlink u32 @16, stx_uid u32 @20, stx_gid u32 @24, stx_mode u16 @28.
        return ((int)*(uint*)(buffer + 20), *(ushort*)(buffer + 28));
    }

    /// <summary>
    /// Starts <paramref name="arguments"/>[0] (searched in this process's PATH when it has no '/') as a child with
    /// <paramref name="environment"/>, every signal at its default action and none blocked (.NET ignores SIGPIPE,
    /// which a child would inherit). Returns the pid, or <c>-errno</c> when the program could not be run.
    /// </summary>
    public static int Spawn(IReadOnlyList<string> arguments, IReadOnlyList<string> environment)
    {
        var handles = new List<GCHandle>();
        // posix_spawnattr_t is 336 bytes and sigset_t 128 in glibc (x86_64, aarch64): generous room for both.
        byte* attributes = (byte*)NativeMemory.AllocZeroed(1024);
        byte* signals = (byte*)NativeMemory.AllocZeroed(256);
        byte** argv = (byte**)NativeMemory.AllocZeroed((nuint)(arguments.Count + 1), (nuint)sizeof(byte*));
        byte** envp = (byte**)NativeMemory.AllocZeroed((nuint)(environment.Count + 1), (nuint)sizeof(byte*));
        try
        {
            for (int i = 0; i < arguments.Count; i++) argv[i] = Pin(arguments[i], handles);
            for (int i = 0; i < environment.Count; i++) envp[i] = Pin(environment[i], handles);
            int rc = posix_spawnattr_init(attributes);
            if (rc != 0) return -rc;
            try
            {
                sigfillset(signals);
                rc = posix_spawnattr_setsigdefault(attributes, signals);
                if (rc == 0)
                {
                    sigemptyset(signals);
                    rc = posix_spawnattr_setsigmask(attributes, signals);
                }
                if (rc == 0) rc = posix_spawnattr_setflags(attributes, PosixSpawnSetSigDef | PosixSpawnSetSigMask);
                if (rc != 0) return -rc;
                int pid;
                rc = posix_spawnp(&pid, argv[0], null, attributes, argv, envp);
                return rc == 0 ? pid : -rc;
            }
            finally
            {
                posix_spawnattr_destroy(attributes);
            }
        }
        finally
        {
            NativeMemory.Free(argv);
            NativeMemory.Free(envp);
            NativeMemory.Free(signals);
            NativeMemory.Free(attributes);
            foreach (var handle in handles) handle.Free();
        }
    }

    /// <summary>waitpid(-1, &amp;status, 0): the next child to end, any child (an init reaps orphans too); <c>-errno</c> (ECHILD: none left).</summary>
    public static int WaitAny(out int status)
    {
        int s;
        int pid = waitpid(-1, &s, 0);
        status = s;
        return pid < 0 ? -Marshal.GetLastPInvokeError() : pid;
    }

    /// <summary>waitpid(pid, &amp;status, 0), retried when a signal interrupts it; <c>-errno</c> on failure.</summary>
    public static int WaitFor(int pid, out int status)
    {
        int s, rc;
        do rc = waitpid(pid, &s, 0);
        while (rc < 0 && Marshal.GetLastPInvokeError() == EINTR);
        status = s;
        return rc < 0 ? -Marshal.GetLastPInvokeError() : rc;
    }

    /// <summary>The exit status a shell reports for a wait status: the exit code, or 128 + the signal that ended it.</summary>
    public static int ShellExitCode(int status) => (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f);

    /// <summary>setns(fd, CLONE_NEWNET) on the calling thread.</summary>
    public static int EnterNetworkNamespace(int fd) => Result(setns(fd, CLONE_NEWNET));

    /// <summary>strerror's text for an errno.</summary>
    public static string Describe(int errno) => Marshal.GetPInvokeErrorMessage(errno);

    public static IOException Failure(string operation)
    {
        int errno = Marshal.GetLastPInvokeError();
        return new IOException($"{operation}: {Describe(errno)}");
    }

    private static byte* Pin(string value, List<GCHandle> handles)
    {
        var handle = GCHandle.Alloc(Bytes(value), GCHandleType.Pinned);
        handles.Add(handle);
        return (byte*)handle.AddrOfPinnedObject();
    }

    private static byte[] Bytes(string value)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(value) + 1];
        Encoding.UTF8.GetBytes(value, bytes);
        return bytes;
    }

    private static int Result(int rc) => rc < 0 ? -Marshal.GetLastPInvokeError() : rc;

    [LibraryImport("libc", SetLastError = true)] private static partial int pipe2(int* fds, int flags);
    [LibraryImport("libc", SetLastError = true)] private static partial int fcntl(int fd, int command, int argument);
    [LibraryImport("libc", SetLastError = true)] private static partial int dup2(int from, int to);
    [LibraryImport("libc", SetLastError = true)] private static partial int close(int fd);
    [LibraryImport("libc", SetLastError = true)] private static partial int open(byte* path, int flags, int mode);
    [LibraryImport("libc", SetLastError = true)] private static partial int mount(byte* source, byte* target, byte* type, ulong flags, byte* data);
    [LibraryImport("libc", SetLastError = true)] private static partial int kill(int pid, int signal);
    [LibraryImport("libc")] private static partial uint geteuid();
    [LibraryImport("libc")] private static partial uint getuid();
    [LibraryImport("libc")] private static partial uint getgid();
    [LibraryImport("libc", SetLastError = true)] private static partial int access(byte* path, int mode);
    [LibraryImport("libc", SetLastError = true)] private static partial int statx(int directory, byte* path, int flags, uint mask, byte* buffer);
    [LibraryImport("libc", SetLastError = true)] private static partial int waitpid(int pid, int* status, int options);
    [LibraryImport("libc", SetLastError = true)] private static partial int setns(int fd, int type);
    [LibraryImport("libc")] private static partial int sigfillset(byte* set);
    [LibraryImport("libc")] private static partial int sigemptyset(byte* set);
    [LibraryImport("libc")] private static partial int posix_spawnattr_init(byte* attributes);
    [LibraryImport("libc")] private static partial int posix_spawnattr_destroy(byte* attributes);
    [LibraryImport("libc")] private static partial int posix_spawnattr_setflags(byte* attributes, short flags);
    [LibraryImport("libc")] private static partial int posix_spawnattr_setsigdefault(byte* attributes, byte* signals);
    [LibraryImport("libc")] private static partial int posix_spawnattr_setsigmask(byte* attributes, byte* signals);
    [LibraryImport("libc")] private static partial int posix_spawnp(int* pid, byte* file, void* fileActions, byte* attributes, byte** argv, byte** envp);
}
