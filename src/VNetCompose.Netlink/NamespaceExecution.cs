using Microsoft.Win32.SafeHandles;
using VNetCompose.Kernel;
using VNetCompose.Netlink.Interop;
using VNetCompose.Netlink.Namespaces;

namespace VNetCompose.Netlink;

/// <summary>
/// Runs code inside a named network namespace (<c>/run/netns/NAME</c>, as <c>ip netns</c> makes them) without
/// switching the calling thread. <c>setns</c> changes one OS thread only, and thread-pool threads or
/// <c>await</c> continuations would carry the switch into unrelated work, so the code runs on a thread that
/// does nothing else. What it creates keeps its namespace whatever thread uses it later: a socket stays in
/// the namespace it was created in, a process started there runs there (and its children).
/// </summary>
public static class NamespaceExecution
{
    /// <summary>
    /// Runs short, non-blocking <paramref name="work"/> (creating a socket, opening <c>/dev/net/tun</c>)
    /// on the driver's namespace thread, which serves one request at a time and returns home after each.
    /// Equivalent to a thread doing <c>setns(open("/run/netns/NAME"))</c>, then the work, then going back.
    /// </summary>
    /// <exception cref="KernelException">The namespace does not exist (ENOENT) or cannot be entered.</exception>
    public static T RunOnNamespaceThread<T>(string namespaceName, Func<T> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        using var fd = Open(namespaceName, out string operation);
        return NamespaceThread.RunInside(fd, operation, work);
    }

    /// <summary>
    /// Runs <paramref name="work"/>, of any length, on a new thread of its own that enters the namespace,
    /// runs it and exits. The task completes (with the work's result or exception) on the thread pool, never
    /// inside the namespace: an <c>await</c> inside <paramref name="work"/> does not stay there either.
    /// </summary>
    /// <exception cref="KernelException">The namespace does not exist (ENOENT); cannot be entered (in the task).</exception>
    public static Task<T> RunOnNewThread<T>(string namespaceName, Func<T> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        var fd = Open(namespaceName, out string operation);
        return NamespaceThread.RunOnNewThread(fd, operation, work);
    }

    private static SafeFileHandle Open(string namespaceName, out string operation)
    {
        ArgumentNullException.ThrowIfNull(namespaceName);
        operation = $"running code in namespace {namespaceName}";
        NamespaceManager.ValidateName(namespaceName, operation);
        int fd = Native.OpenReadOnly(Path.Combine(NamespaceManager.RunDirectory, namespaceName));
        if (fd == -Errnos.ENOENT) throw new KernelException(Errnos.ENOENT, operation, $"there is no namespace named {namespaceName}");
        if (fd < 0) throw new KernelException(-fd, operation);
        return new SafeFileHandle(fd, ownsHandle: true);
    }
}
