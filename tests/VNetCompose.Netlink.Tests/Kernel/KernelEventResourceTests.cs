using VNetCompose.Kernel;
using VNetCompose.TestSupport;

namespace VNetCompose.Netlink.Tests.Kernel;

/// <summary>Tests that count process-wide resources (descriptors, a thread's CPU time): run alone.</summary>
[CollectionDefinition(nameof(ProcessResources), DisableParallelization = true)]
public sealed class ProcessResources;

[Collection(nameof(ProcessResources))]
public sealed class KernelEventResourceTests : KernelTestBase
{
    /// <summary>
    /// Open descriptors of the kinds a subscription opens: sockets, epoll/eventfd/inotify instances, namespace
    /// files and the mount table. (Pipes and mapped assemblies come and go with the test host's own work.)
    /// </summary>
    private static List<string> Descriptors() =>
        Directory.GetFiles("/proc/self/fd").Select(Target)
            .Where(t => t.StartsWith("socket:", StringComparison.Ordinal) || t.StartsWith("anon_inode:", StringComparison.Ordinal)
                || t.StartsWith("net:", StringComparison.Ordinal) || t.StartsWith("/run/netns/", StringComparison.Ordinal) || t.EndsWith("mountinfo", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal).ToList();

    private static string Target(string fd)
    {
        try
        {
            return new FileInfo(fd).LinkTarget ?? "";
        }
        catch (IOException)
        {
            return ""; // closed meanwhile
        }
    }

    private static int OpenDescriptors() => Descriptors().Count;

    [Fact]
    public async Task CancellingTheStream_EndsItCleanly_AndReleasesEverySocketAndDescriptor()
    {
        var namespaces = Enumerable.Range(0, 5).Select(i => Ns(Sandbox.Create($"fd{i}"))).ToList();
        Kernel.Observe(namespaces); // the driver's own handles and sockets, which outlive the subscription
        int before = OpenDescriptors();
        using var cancel = new CancellationTokenSource();
        var events = new System.Collections.Concurrent.ConcurrentQueue<KernelEvent>();

        var watching = Task.Run(async () =>
        {
            await foreach (var e in Kernel.WatchAsync([.. namespaces, Ns(Sandbox.Name("absent"))], cancellationToken: cancel.Token))
                events.Enqueue(e);
        });
        // Two sockets per namespace, plus epoll, eventfd, inotify and the mount table.
        await WaitUntil(() => OpenDescriptors() >= before + 2 * namespaces.Count + 4);
        ProcessRunner.RunChecked("ip", "-n", namespaces[0].Name!, "link", "add", "br0", "type", "bridge");
        await WaitUntil(() => events.OfType<LinkEvent>().Any(e => e.Link.Name == "br0"));
        cancel.Cancel();

        await watching.WaitAsync(TimeSpan.FromSeconds(10)); // ends, without an exception
        OpenDescriptors().Should().Be(before, string.Join(", ", Descriptors()));
    }

    [Fact]
    public async Task Disposing_ASubscriptionThatIsNotRead_StopsItsThread_AndReleasesEverything()
    {
        var ns = Ns(Sandbox.Create("dis"));
        Kernel.Observe([ns]);
        int before = OpenDescriptors();
        var subscription = Kernel.Subscribe([ns], new KernelWatchOptions { QueueCapacity = 1 });
        ProcessRunner.RunChecked("ip", "-n", ns.Name!, "link", "add", "br0", "type", "bridge");
        ProcessRunner.RunChecked("ip", "-n", ns.Name!, "link", "set", "br0", "mtu", "1400"); // the thread now waits for room

        await subscription.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));

        OpenDescriptors().Should().Be(before, string.Join(", ", Descriptors()));
        EventThreads().Should().BeEmpty();
        while (subscription.Events.TryRead(out _)) { } // what was queued can still be read; then the stream ends
        subscription.Events.Completion.IsCompleted.Should().BeTrue();
    }

    [Fact]
    public async Task Idle_TheEventThreadUsesNoCpu()
    {
        var namespaces = Enumerable.Range(0, 3).Select(i => Ns(Sandbox.Create($"idle{i}"))).ToList();
        using var subscription = Kernel.Subscribe(namespaces);
        var thread = EventThreads().Should().ContainSingle().Subject;
        long start = CpuTicks(thread);

        await Task.Delay(TimeSpan.FromSeconds(3));

        // Clock ticks are 10 ms: a thread woken by nothing stays at zero; one tick allows for mount changes of other tests.
        (CpuTicks(thread) - start).Should().BeLessThanOrEqualTo(1);
    }

    /// <summary>The task ids of the subscriptions' event threads in this process.</summary>
    private static List<string> EventThreads() =>
        Directory.GetDirectories("/proc/self/task")
            .Where(t => File.Exists(Path.Combine(t, "comm")) && ReadOrEmpty(Path.Combine(t, "comm")).Trim() == "vnet events")
            .ToList();

    private static string ReadOrEmpty(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (IOException)
        {
            return ""; // the thread ended meanwhile
        }
    }

    /// <summary>utime + stime of a thread (fields 14 and 15 of /proc/PID/task/TID/stat), in clock ticks.</summary>
    private static long CpuTicks(string task)
    {
        string stat = File.ReadAllText(Path.Combine(task, "stat"));
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return long.Parse(fields[11], System.Globalization.CultureInfo.InvariantCulture)
            + long.Parse(fields[12], System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("condition not met within 10 s");
            await Task.Delay(10);
        }
    }
}
