using System.Diagnostics;
using System.Runtime.InteropServices;
using VNetCompose.Kernel;
using VNetCompose.Netlink.Interop;

namespace VNetCompose.Netlink.Namespaces;

/// <summary>
/// Runs programs inside a named network namespace the way <c>ip netns exec</c> does (iproute2
/// ip/ipnetns.c): on a thread of its own, which enters the namespace (setns), then a mount namespace of
/// its own (unshare CLONE_NEWNS, allowed per thread even in a multithreaded process) whose /sys is a new
/// sysfs, so /sys/class/net lists the namespace's devices, with the files of /etc/netns/NAME bound over
/// their namesakes in /etc. The program then either replaces this process (<see cref="Replace"/>:
/// execve from that thread, so stdin, signals and the exit status need no relaying) or is started as a
/// child from that thread (<see cref="Start"/>), which inherits the thread's namespaces.
/// The current namespace (<see cref="NetnsId.Current"/>) is used as it is.
/// </summary>
public static class NamespaceExec
{
    /// <summary>iproute2's per-namespace configuration folder (NETNS_ETC_DIR).</summary>
    public const string EtcDirectory = "/etc/netns";

    private const string SysMount = "/sys";
    private const string DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    // <asm-generic/signal.h>
    private const int SIGHUP = 1, SIGINT = 2, SIGQUIT = 3, SIGPIPE = 13, SIGTERM = 15;

    /// <summary>
    /// Replaces this process by <paramref name="program"/> (found in the PATH of <paramref name="environment"/>
    /// when it has no '/') run inside <paramref name="netns"/>, with <paramref name="arguments"/> as its argv
    /// (argv[0] included) and exactly <paramref name="environment"/>. Returns only when the program could not be
    /// started: the errno of the attempt that decides (ENOENT: not found, EACCES: not executable).
    /// Flush buffered output first: nothing of this process survives.
    /// </summary>
    /// <exception cref="KernelException">the namespace could not be entered or /sys not mounted.</exception>
    public static int Replace(NetnsId netns, string program, IReadOnlyList<string> arguments,
        IReadOnlyDictionary<string, string> environment, Action<string>? warn = null)
    {
        ArgumentNullException.ThrowIfNull(program);
        ArgumentNullException.ThrowIfNull(arguments);
        ArgumentNullException.ThrowIfNull(environment);
        var envp = environment.Select(e => $"{e.Key}={e.Value}").ToList();
        string path = environment.TryGetValue("PATH", out var p) ? p : DefaultPath;
        return OnThreadInside(netns, warn, () =>
        {
            // An exec'd program inherits the thread's signal mask and the process's ignored signals.
            // .NET ignores SIGPIPE for itself; a program should die of it as usual (`yes | head`).
            Native.UnblockAllSignals();
            RestoreDefaultSigpipe();
            return ExecuteSearchingPath(program, arguments, envp, path);
        });
    }

    /// <summary>
    /// Starts <paramref name="start"/> as a child process inside <paramref name="netns"/>. The child inherits
    /// the signals this process ignores, SIGPIPE among them in any .NET process (see <see cref="RestoreDefaultSigpipe"/>).
    /// </summary>
    /// <exception cref="KernelException">the namespace could not be entered or /sys not mounted.</exception>
    /// <exception cref="System.ComponentModel.Win32Exception">the program could not be started.</exception>
    public static Process Start(NetnsId netns, ProcessStartInfo start, Action<string>? warn = null)
    {
        ArgumentNullException.ThrowIfNull(start);
        return OnThreadInside(netns, warn, () => Process.Start(start)!);
    }

    /// <summary>
    /// Relays a signal vnet received to <paramref name="child"/>. SIGINT and SIGQUIT typed at the
    /// terminal already reached the child (the terminal signals its whole foreground process group,
    /// which the child shares): those are not sent twice.
    /// </summary>
    public static void Forward(Process child, PosixSignal signal)
    {
        ArgumentNullException.ThrowIfNull(child);
        int number = signal switch
        {
            PosixSignal.SIGHUP => SIGHUP,
            PosixSignal.SIGINT => SIGINT,
            PosixSignal.SIGQUIT => SIGQUIT,
            PosixSignal.SIGTERM => SIGTERM,
            _ => throw new ArgumentOutOfRangeException(nameof(signal), signal, "not a signal vnet relays"),
        };
        if (number is SIGINT or SIGQUIT && Enumerable.Range(0, 3).Any(Native.IsForegroundOfTerminal)) return;
        if (!child.HasExited) Native.SendSignal(child.Id, number);
    }

    /// <summary>
    /// Gives SIGPIPE back its default action (end the process) in this whole process, and so in the children
    /// it starts from now on: .NET ignores it at startup, its children inherit that (.NET resets handlers,
    /// not ignored signals), and a program ignoring it loops on EPIPE instead of ending (<c>yes | head -1</c>).
    /// For a program that, like <c>vnet exec</c>, only starts programs from now on: a write to a closed pipe then ends it too.
    /// </summary>
    public static void RestoreDefaultSigpipe()
    {
        if ((Native.IgnoredSignals() & Bit(SIGPIPE)) != 0) Native.RestoreDefaultAction(SIGPIPE);
    }

    private static ulong Bit(int signal) => 1UL << (signal - 1);

    /// <summary>
    /// Runs <paramref name="work"/> on a new thread inside the namespace. The thread is never reused: its
    /// mount namespace is private, and it ends (or becomes the exec'd program) when the work is done.
    /// </summary>
    private static T OnThreadInside<T>(NetnsId netns, Action<string>? warn, Func<T> work)
    {
        T result = default!;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                if (netns.Name is { } name) Enter(name, warn ?? (_ => { }));
                result = work();
            }
            catch (Exception e)
            {
                failure = e;
            }
        })
        { Name = "vnet exec", IsBackground = true };
        thread.Start();
        thread.Join();
        if (failure is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        return result;
    }

    /// <summary>The steps of iproute2's netns_switch, on the calling thread.</summary>
    private static void Enter(string name, Action<string> warn)
    {
        string path = Path.Combine(NamespaceManager.RunDirectory, name);
        int fd = Native.OpenReadOnly(path);
        if (fd < 0) throw new KernelException(-fd, $"opening namespace {name} ({path})");
        using (var handle = new Microsoft.Win32.SafeHandles.SafeFileHandle(fd, ownsHandle: true))
        {
            int entered = Native.EnterNetworkNamespace(handle);
            if (entered < 0) throw new KernelException(-entered, $"entering namespace {name} (setns)");
        }
        Check(Native.UnshareMountNamespace(), "unshare(CLONE_NEWNS)");
        // Slave, not private: mounts made later on the host (a new /run/netns entry) still show here.
        Check(Native.MakeMountsSlave(), "making / a slave mount");
        // A new sysfs shows the devices of the namespace of the thread mounting it. When the old one cannot
        // be detached, mount over it; a read-only /sys (a container) only takes a read-only one.
        bool readOnly = Native.DetachMount(SysMount) < 0 && Native.IsReadOnlyMount(SysMount);
        Check(Native.MountSysfs(name, SysMount, readOnly), $"mounting a sysfs of namespace {name} on /sys");
        BindEtcFiles(name, warn);
    }

    /// <summary>As <c>ip netns exec</c>: /etc/netns/NAME/resolv.conf is bound over /etc/resolv.conf, and so on.</summary>
    private static void BindEtcFiles(string name, Action<string> warn)
    {
        string folder = Path.Combine(EtcDirectory, name);
        if (!Directory.Exists(folder)) return;
        foreach (string source in Directory.EnumerateFileSystemEntries(folder).Order(StringComparer.Ordinal))
        {
            string target = Path.Combine("/etc", Path.GetFileName(source));
            int rc = Native.BindMount(source, target, recursive: false);
            if (rc < 0) warn($"could not bind {source} over {target}: {Errnos.Describe(-rc)}");
        }
    }

    private static void Check(int rc, string operation)
    {
        if (rc < 0) throw new KernelException(-rc, operation);
    }

    /// <summary>execvp's search: each PATH entry in turn; "permission denied" wins over "not found" if no entry runs.</summary>
    private static int ExecuteSearchingPath(string program, IReadOnlyList<string> arguments, IReadOnlyList<string> environment, string path)
    {
        if (program.Contains('/')) return -Native.Execute(program, arguments, environment);
        int decisive = Errnos.ENOENT;
        foreach (string folder in path.Split(':'))
        {
            int errno = -Native.Execute(Path.Combine(folder.Length == 0 ? "." : folder, program), arguments, environment);
            if (errno == Errnos.EACCES) decisive = errno;
            else if (errno is not (Errnos.ENOENT or Errnos.ENOTDIR or Errnos.ELOOP or Errnos.ENAMETOOLONG)) return errno;
        }
        return decisive;
    }
}
