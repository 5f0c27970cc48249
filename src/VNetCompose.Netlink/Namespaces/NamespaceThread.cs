using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using VNetCompose.Kernel;
using VNetCompose.Netlink.Interop;

namespace VNetCompose.Netlink.Namespaces;

/// <summary>
/// The only place that changes a thread's network namespace. setns/unshare affect the calling OS
/// thread alone, and thread-pool threads or await continuations would carry the switch into unrelated
/// work, so the switch happens on one dedicated thread of our own that runs nothing else: it enters
/// the namespace, does the work, and returns to the namespace it started in before taking the next
/// request. Starting a thread per call cost ~0.2 ms (a third of a 200-namespace <c>up</c>); handing
/// work to the waiting thread costs two wake-ups. If the thread cannot return home it is retired (it
/// exits without running anything else) and the next call starts a new one.
/// </summary>
internal static class NamespaceThread
{
    private static readonly Lock Gate = new();
    private static NamespaceWorker? _worker;

    /// <summary>Runs <paramref name="work"/> on the namespace thread inside the namespace behind <paramref name="namespaceFd"/>.</summary>
    public static T RunInside<T>(SafeHandle namespaceFd, string operation, Func<T> work) =>
        Run(() =>
        {
            Enter(namespaceFd, operation);
            return work();
        });

    /// <summary>
    /// Runs <paramref name="work"/> inside each namespace in turn, in one trip of the namespace thread,
    /// and hands each outcome (the work's result, or the exception it or entering the namespace threw)
    /// to <paramref name="done"/> with the namespace's position as soon as it is known, so the caller can
    /// start on that namespace while the thread goes on with the next. <paramref name="done"/> runs on
    /// the namespace thread: it must only hand the outcome over.
    /// </summary>
    public static void RunInsideEach<T>(IReadOnlyList<SafeHandle> namespaceFds, string operation, Func<T> work,
        Action<int, T?, Exception?> done) =>
        Run(longRunning: true, inside: () =>
        {
            for (int i = 0; i < namespaceFds.Count; i++)
            {
                T? result = default;
                Exception? failure = null;
                try
                {
                    Enter(namespaceFds[i], operation);
                    result = work();
                }
                catch (Exception e)
                {
                    failure = e;
                }
                done(i, result, failure);
            }
            return true;
        });

    /// <summary>Runs <paramref name="work"/> on the namespace thread moved first into a new, empty namespace.</summary>
    public static T RunInNewNamespace<T>(string operation, Func<T> work) =>
        Run(() =>
        {
            int rc = Native.UnshareNetworkNamespace();
            if (rc < 0) throw new KernelException(-rc, $"{operation}: unshare(CLONE_NEWNET)");
            return work();
        });

    /// <summary>
    /// Runs <paramref name="work"/> on a new thread of its own that enters the namespace, runs it and exits:
    /// for code of any length (a user's server loop, a process start), which must not hold up the shared
    /// thread. The thread never returns home and never runs anything else. It closes
    /// <paramref name="namespaceFd"/> once inside. The task completes on the thread pool: an awaiting
    /// continuation never runs on the thread inside the namespace.
    /// </summary>
    public static Task<T> RunOnNewThread<T>(SafeHandle namespaceFd, string operation, Func<T> work)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                using (namespaceFd) Enter(namespaceFd, operation);
                done.SetResult(work());
            }
            catch (Exception e)
            {
                done.SetException(e);
            }
        })
        {
            IsBackground = true,
            Name = "vnet netns (own)",
        };
        try
        {
            thread.Start();
        }
        catch
        {
            namespaceFd.Dispose();
            throw;
        }
        return done.Task;
    }

    private static void Enter(SafeHandle namespaceFd, string operation)
    {
        int rc = Native.EnterNetworkNamespace(namespaceFd);
        if (rc < 0) throw new KernelException(-rc, $"{operation}: entering the namespace (setns)");
    }

    /// <summary>One request at a time: callers on other threads wait here (the work itself is short).</summary>
    /// <param name="inside">The work, run on the namespace thread (it may switch namespaces; the thread returns home after).</param>
    /// <param name="longRunning">The caller sleeps at once instead of spinning for the answer first.</param>
    private static T Run<T>(Func<T> inside, bool longRunning = false)
    {
        lock (Gate)
        {
            if (_worker is null || _worker.IsRetired) _worker = NamespaceWorker.Start();
            return _worker.Run(inside, longRunning);
        }
    }

    /// <summary>
    /// The dedicated thread and its hand-over: one pending request, signalled both ways. Both sides spin
    /// (yielding) for about a millisecond before they sleep: requests come back to back during an apply
    /// and each takes up to ~0.5 ms (a namespace's creation), while waking a sleeping thread costs tens
    /// of microseconds on a virtual machine. Measured at 200 namespaces: namespace creation 170-190 ms
    /// when both sides sleep at once, 100-150 ms with this spin, for ~50 ms more CPU time.
    /// </summary>
    private sealed class NamespaceWorker
    {
        private const int StackSize = 256 * 1024;
        private const int SpinCount = 2000;
        // Semaphores, not reset events: a reset racing with the other side's set can leave an event
        // signalled for an answer already taken (ManualResetEventSlim.Reset is not safe against Set).
        private readonly SemaphoreSlim _requested = new(0);
        private readonly SemaphoreSlim _answered = new(0);
        private Action? _request;
        /// <summary>Whether the thread expects another request soon (after a short one) and spins for it.</summary>
        private bool _expectMore = true;
        private ExceptionDispatchInfo? _startFailure;
        private SafeFileHandle? _home;

        private NamespaceWorker()
        {
        }

        public bool IsRetired { get; private set; }

        public static NamespaceWorker Start()
        {
            var worker = new NamespaceWorker();
            new Thread(worker.Loop, StackSize) { IsBackground = true, Name = "vnet netns" }.Start();
            worker._answered.Wait(); // the thread has opened its home namespace, or failed to
            if (worker._startFailure is { } failure)
            {
                worker.IsRetired = true;
                failure.Throw();
            }
            return worker;
        }

        /// <summary>Runs <paramref name="inside"/>, which may switch namespaces, then returns the thread home.</summary>
        public T Run<T>(Func<T> inside, bool longRunning)
        {
            T result = default!;
            ExceptionDispatchInfo? failure = null;
            _expectMore = !longRunning; // after a batch the caller goes on with other work: do not spin beside it
            _request = () =>
            {
                try
                {
                    result = inside();
                }
                catch (Exception e)
                {
                    failure = ExceptionDispatchInfo.Capture(e);
                }
                finally
                {
                    ReturnHome();
                }
            };
            _requested.Release();
            if (longRunning) _answered.Wait();
            else SpinThenWait(_answered);
            failure?.Throw();
            return result;
        }

        private void Loop()
        {
            int fd = Native.OpenReadOnly("/proc/thread-self/ns/net");
            if (fd < 0)
            {
                _startFailure = ExceptionDispatchInfo.Capture(new KernelException(-fd, "opening the namespace thread's own namespace"));
                _answered.Release();
                return;
            }
            _home = new SafeFileHandle(fd, ownsHandle: true);
            _answered.Release();
            while (!IsRetired)
            {
                if (_expectMore) SpinThenWait(_requested);
                else _requested.Wait();
                var request = _request!;
                _request = null;
                request();
                _answered.Release();
            }
            _home.Dispose();
        }

        /// <summary>Takes the semaphore, polling it while yielding for a while before sleeping on it.</summary>
        private static void SpinThenWait(SemaphoreSlim semaphore)
        {
            var spinner = new SpinWait();
            for (int i = 0; i < SpinCount; i++)
            {
                if (semaphore.Wait(0)) return;
                spinner.SpinOnce(sleep1Threshold: -1);
            }
            semaphore.Wait();
        }

        /// <summary>Back into the namespace the thread started in; if that fails the thread must not run anything else.</summary>
        private void ReturnHome()
        {
            if (Native.EnterNetworkNamespace(_home!) < 0) IsRetired = true;
        }
    }
}
