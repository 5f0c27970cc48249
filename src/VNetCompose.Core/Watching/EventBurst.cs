using System.Diagnostics;
using System.Threading.Channels;
using VNetCompose.Kernel;

namespace VNetCompose.Core.Watching;

/// <summary>
/// Debouncing: waits (without a timer) for the first event, then collects until the kernel has been quiet
/// for <see cref="WatchSettings.Settle"/>, so one command (or one transaction) is one report. A namespace
/// deleted in the burst extends it until its veth peers elsewhere have vanished (or
/// <see cref="WatchSettings.VanishWait"/> passed): the kernel removes them asynchronously, and reporting
/// before would report the same command twice.
/// </summary>
internal sealed class EventBurst(ChannelReader<KernelEvent> reader, WatchSettings settings)
{
    /// <summary>The next burst; null when the subscription ended or <paramref name="cancellationToken"/> was cancelled.</summary>
    /// <param name="vanishing">The links (namespace, index) that vanish with a deleted namespace.</param>
    public async Task<List<KernelEvent>?> NextAsync(Func<NetnsId, IEnumerable<(NetnsId, int)>> vanishing, CancellationToken cancellationToken)
    {
        KernelEvent first;
        try
        {
            first = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return null;
        }
        catch (ChannelClosedException e) when (e.InnerException is null)
        {
            return null;
        }
        var awaited = new Awaited(settings.VanishWait);
        void Track(KernelEvent e)
        {
            if (e is NamespaceEvent { Change: KernelChange.Removed } deleted) awaited.Expect(vanishing(deleted.Namespace));
            else if (e is LinkEvent { Change: KernelChange.Removed } gone) awaited.Seen((gone.Namespace, gone.Link.Index));
        }
        var burst = new List<KernelEvent> { first };
        Track(first);
        return await CollectAsync(burst, Track, awaited, cancellationToken).ConfigureAwait(false) ? burst : null;
    }

    /// <summary>
    /// The events the watch's own repair caused, collected until the kernel is quiet and each namespace of
    /// <paramref name="appearing"/> (created by the repair) is subscribed; null when cancelled.
    /// </summary>
    public async Task<List<KernelEvent>?> EchoAsync(IReadOnlySet<NetnsId> appearing, CancellationToken cancellationToken)
    {
        const int Namespace = -1;
        var awaited = new Awaited(settings.VanishWait);
        awaited.Expect(appearing.Select(n => (n, Namespace)));
        void Track(KernelEvent e)
        {
            if (e is NamespaceEvent { Change: KernelChange.Added } added) awaited.Seen((added.Namespace, Namespace));
        }
        var echo = new List<KernelEvent>();
        return await CollectAsync(echo, Track, awaited, cancellationToken).ConfigureAwait(false) ? echo : null;
    }

    /// <summary>Takes whatever is queued now, without waiting.</summary>
    public void Drain()
    {
        while (reader.TryRead(out _))
        {
        }
    }

    /// <summary>
    /// Adds events until none came for <see cref="WatchSettings.Settle"/> and nothing is awaited any more (or
    /// its wait is over), or <see cref="WatchSettings.MaxBurst"/> passed; false when cancelled.
    /// </summary>
    private async Task<bool> CollectAsync(List<KernelEvent> events, Action<KernelEvent> track, Awaited awaited,
        CancellationToken cancellationToken)
    {
        long start = Stopwatch.GetTimestamp();
        while (true)
        {
            while (reader.TryRead(out var e))
            {
                events.Add(e);
                track(e);
            }
            if (reader.Completion.IsCompleted) return true;
            bool waiting = awaited.Waiting;
            if (!waiting && Stopwatch.GetElapsedTime(start) >= settings.MaxBurst) return true;
            bool more = await MoreWithin(waiting ? awaited.TimeLeft : settings.Settle, cancellationToken).ConfigureAwait(false);
            if (cancellationToken.IsCancellationRequested) return false;
            if (!more && !waiting) return true;
        }
    }

    /// <summary>Whether another event arrives within <paramref name="quiet"/> (the only timer: while a burst is open).</summary>
    private async Task<bool> MoreWithin(TimeSpan quiet, CancellationToken cancellationToken)
    {
        if (quiet <= TimeSpan.Zero) return reader.TryPeek(out _);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(quiet);
        try
        {
            return await reader.WaitToReadAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Things a burst waits for (links to vanish, namespaces to be subscribed), for a bounded time.</summary>
    private sealed class Awaited(TimeSpan wait)
    {
        private readonly HashSet<(NetnsId, int)> _items = [];
        private long _deadline;

        public bool Waiting => _items.Count > 0 && Stopwatch.GetTimestamp() < _deadline;

        public TimeSpan TimeLeft => Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), _deadline);

        public void Expect(IEnumerable<(NetnsId, int)> items)
        {
            int before = _items.Count;
            _items.UnionWith(items);
            if (_items.Count > before) _deadline = Stopwatch.GetTimestamp() + (long)(wait.TotalSeconds * Stopwatch.Frequency);
        }

        public void Seen((NetnsId, int) item) => _items.Remove(item);
    }
}
