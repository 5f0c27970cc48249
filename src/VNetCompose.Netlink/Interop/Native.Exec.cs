using System.Runtime.InteropServices;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace VNetCompose.Netlink.Interop;

/// <summary>
/// The libc calls of <see cref="Namespaces.NamespaceExec"/>: a private mount namespace with a /sys of the
/// network namespace (as <c>ip netns exec</c> makes), signal state, execve and kill. Like the rest of
/// <see cref="Native"/>, each returns the call's non-negative result or <c>-errno</c>.
/// </summary>
internal static unsafe partial class Native
{
    /// <summary>unshare(CLONE_NEWNS) on the calling OS thread (allowed in a multithreaded process, unlike CLONE_NEWUSER).</summary>
    public static int UnshareMountNamespace() => Result(unshare(CLONE_NEWNS));

    /// <summary>mount("", "/", "none", MS_SLAVE | MS_REC): mounts made from now on do not propagate back out.</summary>
    public static int MakeMountsSlave() => SetMountPropagation("/", MS_SLAVE | MS_REC);

    /// <summary>mount(source, target, "sysfs", flags): a sysfs shows the network devices of the mounting thread's namespace.</summary>
    public static int MountSysfs(string source, string target, bool readOnly)
    {
        fixed (byte* src = NulTerminated(source))
        fixed (byte* dst = NulTerminated(target))
        fixed (byte* sysfs = "sysfs"u8)
        {
            return Result(mount(src, dst, sysfs, readOnly ? MS_RDONLY : 0, null));
        }
    }

    /// <summary>Whether the file system holding <paramref name="path"/> is mounted read-only (statvfs ST_RDONLY).</summary>
    public static bool IsReadOnlyMount(string path)
    {
        StatVfs info;
        fixed (byte* p = NulTerminated(path))
        {
            return statvfs(p, &info) == 0 && (info.Flags & StRdOnly) != 0;
        }
    }

    /// <summary>Unblocks every signal of the calling thread: a program exec'd from it inherits the mask.</summary>
    public static int UnblockAllSignals()
    {
        sigset_t none;
        sigemptyset(&none);
        return Result(pthread_sigmask(SIG_SETMASK, &none, null));
    }

    /// <summary>
    /// Signals ignored now (bit n-1 for signal n), read from <c>SigIgn</c> of /proc/thread-self/status:
    /// an exec'd program inherits ignored signals, and .NET ignores SIGPIPE for itself.
    /// </summary>
    public static ulong IgnoredSignals()
    {
        foreach (string line in File.ReadLines("/proc/thread-self/status"))
        {
            if (line.StartsWith("SigIgn:", StringComparison.Ordinal))
                return Convert.ToUInt64(line["SigIgn:".Length..].Trim(), 16);
        }
        return 0;
    }

    /// <summary>signal(sig, SIG_DFL).</summary>
    public static int RestoreDefaultAction(int signal) => SetDefaultAction(signal, SigDfl) == SigErr ? -errno : 0;

    /// <summary>
    /// execve(path, argv, envp): returns only when it fails (<c>-errno</c>); on success the calling
    /// thread becomes the whole process, running the program.
    /// </summary>
    public static int Execute(string path, IReadOnlyList<string> arguments, IReadOnlyList<string> environment)
    {
        var handles = new List<GCHandle>();
        try
        {
            byte** argv = stackalloc byte*[arguments.Count + 1];
            byte** envp = (byte**)NativeMemory.Alloc((nuint)(environment.Count + 1), (nuint)sizeof(byte*));
            try
            {
                for (int i = 0; i < arguments.Count; i++) argv[i] = Pin(arguments[i], handles);
                argv[arguments.Count] = null;
                for (int i = 0; i < environment.Count; i++) envp[i] = Pin(environment[i], handles);
                envp[environment.Count] = null;
                fixed (byte* file = NulTerminated(path))
                {
                    return Result(execve(file, argv, envp));
                }
            }
            finally
            {
                NativeMemory.Free(envp);
            }
        }
        finally
        {
            foreach (var handle in handles) handle.Free();
        }
    }

    private static byte* Pin(string value, List<GCHandle> handles)
    {
        var handle = GCHandle.Alloc(NulTerminated(value), GCHandleType.Pinned);
        handles.Add(handle);
        return (byte*)handle.AddrOfPinnedObject();
    }

    /// <summary>kill(pid, signal).</summary>
    public static int SendSignal(int pid, int signal) => Result(kill(pid, signal));

    /// <summary>Whether the process group of this process is the foreground group of the terminal on <paramref name="fd"/>.</summary>
    public static bool IsForegroundOfTerminal(int fd) => isatty(fd) == 1 && tcgetpgrp(fd) == getpgrp();

    // <bits/statvfs.h>: ST_RDONLY = 1.
    private const ulong StRdOnly = 1;
    // <signal.h>: SIG_DFL = (sighandler_t)0, SIG_ERR = (sighandler_t)-1.
    private static readonly nint SigDfl = 0;
    private static readonly nint SigErr = -1;

    [LibraryImport("libc", EntryPoint = "signal", SetLastError = true)]
    private static partial nint SetDefaultAction(int signal, nint handler);

    [LibraryImport("libc", EntryPoint = "statvfs", SetLastError = true)]
    private static partial int statvfs(byte* path, StatVfs* buffer);

    [LibraryImport("libc", EntryPoint = "getpgrp")]
    private static partial int getpgrp();

    /// <summary>struct statvfs (x86_64/aarch64 glibc, <c>bits/statvfs.h</c>): only f_flag is read.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct StatVfs
    {
        public ulong BlockSize, FragmentSize, Blocks, BlocksFree, BlocksAvailable, Files, FilesFree, FilesAvailable, FileSystemId;
        public ulong Flags, NameMax;
        private fixed int _spare[6];
    }
}
