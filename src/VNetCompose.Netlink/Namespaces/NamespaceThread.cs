using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using VNetCompose.Kernel;
using VNetCompose.Netlink.Interop;

namespace VNetCompose.Netlink.Namespaces;

/// <summary>
/// The only place that changes a thread's network namespace. setns/unshare affect the calling OS
/// thread alone, and thread-pool threads or await continuations would carry the switch into unrelated
/// work, so each call runs on a new dedicated thread that enters the namespace, does its work and
/// exits: the switched thread never runs anything else.
/// </summary>
internal static class NamespaceThread
{
    private const int StackSize = 256 * 1024;

    /// <summary>Runs <paramref name="work"/> on a fresh thread inside the namespace behind <paramref name="namespaceFd"/>.</summary>
    public static T RunInside<T>(SafeHandle namespaceFd, string operation, Func<T> work) =>
        RunOnDedicatedThread(() =>
        {
            int rc = Native.EnterNetworkNamespace(namespaceFd);
            if (rc < 0) throw new KernelException(-rc, $"{operation}: entering the namespace (setns)");
            return work();
        });

    /// <summary>Runs <paramref name="work"/> on a fresh thread that first moves into a new, empty namespace.</summary>
    public static T RunInNewNamespace<T>(string operation, Func<T> work) =>
        RunOnDedicatedThread(() =>
        {
            int rc = Native.UnshareNetworkNamespace();
            if (rc < 0) throw new KernelException(-rc, $"{operation}: unshare(CLONE_NEWNET)");
            return work();
        });

    private static T RunOnDedicatedThread<T>(Func<T> work)
    {
        T result = default!;
        ExceptionDispatchInfo? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                result = work();
            }
            catch (Exception e)
            {
                failure = ExceptionDispatchInfo.Capture(e);
            }
        }, StackSize)
        {
            IsBackground = true,
            Name = "vnet netns",
        };
        thread.Start();
        thread.Join();
        failure?.Throw();
        return result;
    }
}
