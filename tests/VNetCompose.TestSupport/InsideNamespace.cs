using System.Runtime.ExceptionServices;
using Tmds.Linux;

namespace VNetCompose.TestSupport;

/// <summary>
/// Runs test work inside a named network namespace, independently of the code under test. setns changes
/// the calling OS thread only, so the work runs on a new dedicated thread that enters the namespace, does
/// the work and exits; a socket created there stays in that namespace and may be used from any thread.
/// </summary>
public static class InsideNamespace
{
    public static T Run<T>(string ns, Func<T> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        using var handle = File.OpenHandle(Path.Combine("/run/netns", ns), FileMode.Open, FileAccess.Read);
        T result = default!;
        ExceptionDispatchInfo? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                if (LibC.setns((int)handle.DangerousGetHandle(), LibC.CLONE_NEWNET) != 0)
                    throw new IOException($"setns into namespace {ns} failed: errno {LibC.errno}");
                result = work();
            }
            catch (Exception e)
            {
                failure = ExceptionDispatchInfo.Capture(e);
            }
        })
        {
            IsBackground = true,
            Name = "test netns",
        };
        thread.Start();
        thread.Join();
        failure?.Throw();
        return result;
    }
}
