using System.Diagnostics;
using System.Threading.Channels;
using VNetCompose.Kernel;

namespace VNetCompose.Core.Watching;

/// <summary>
/// Debouncing: waits (without a timer) for the first event, then collects until the kernel has been quiet
/// for <see cref="WatchSettings.Settle"/>, so one command (or one transaction) is one report.
/// </summary>
internal sealed class EventBurst(ChannelReader<KernelEvent> reader, WatchSettings settings)
{
    private long _lastChange;

    /// <summary>The pause between the last two changes of the lab (<see cref="Counted"/>) when it was short (at most
    /// <see cref="WatchSettings.MaxSettle"/>): the pace of a script's commands; zero otherwise.</summary>
    public TimeSpan Pace { get; private set; }

    /// <summary>
    /// Takes <paramref name="burst"/> as a change of the lab for <see cref="Pace"/>. Bursts the lab does not care about (the
    /// kernel's own IPv6 address setup a second after a link came up, a foreign namespace's changes, the vanishing a deleted
    /// namespace's veth peers that was already reported) are not counted: they would make a lone hand change look like a
    /// script and its repair wait longer.
    /// </summary>
    public void Counted(IReadOnlyList<KernelEvent> burst)
    {
        var pause = _lastChange == 0 ? TimeSpan.MaxValue : Stopwatch.GetElapsedTime(_lastChange, burst[0].Timestamp);
        Pace = pause <= settings.MaxSettle ? pause : TimeSpan.Zero;
        _lastChange = burst.Max(e => e.Timestamp);
    }

    /// <summary>
    /// The next burst; null when the subscription ended or <paramref name="cancellationToken"/> was cancelled;
    /// empty when <paramref name="wakeAfter"/> (if given) passed without an event.
    /// </summary>
    public async Task<List<KernelEvent>?> NextAsync(TimeSpan? wakeAfter, CancellationToken cancellationToken)
    {
        KernelEvent first;
        try
        {
            if (wakeAfter is { } wait && !await MoreWithin(wait, cancellationToken).ConfigureAwait(false))
                return cancellationToken.IsCancellationRequested || reader.Completion.IsCompleted ? null : [];
            first = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return null;
        }
        catch (ChannelClosedException e)
        {
            // The subscription ended: disposed (null), or stopped by an error the caller must see as it is.
            if (e.InnerException is { } error) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(error);
            return null;
        }
        var burst = new List<KernelEvent> { first };
        bool complete = await CollectAsync(burst, _ => { }, new Awaited(TimeSpan.Zero), adaptive: true, cancellationToken).ConfigureAwait(false);
        return complete ? burst : null;
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
        // Not adaptive: the echo's pauses are the repair's own steps, all done by now.
        return await CollectAsync(echo, Track, awaited, adaptive: false, cancellationToken).ConfigureAwait(false) ? echo : null;
    }

    /// <summary>Takes whatever is queued now, without waiting.</summary>
    public void Drain()
    {
        while (reader.TryRead(out _))
        {
        }
    }

    /// <summary>
    /// Adds events until the kernel was quiet long enough and nothing is awaited any more (or its wait is
    /// over), or <see cref="WatchSettings.MaxBurst"/> passed; false when cancelled. Long enough is
    /// <see cref="WatchSettings.Settle"/>, or three times the longest pause seen inside the burst so far (at
    /// most <see cref="WatchSettings.MaxSettle"/>): a script running one command after another pauses a few ms
    /// between them, and its changes are still one burst.
    /// </summary>
    private async Task<bool> CollectAsync(List<KernelEvent> events, Action<KernelEvent> track, Awaited awaited, bool adaptive,
        CancellationToken cancellationToken)
    {
        long start = Stopwatch.GetTimestamp();
        long last = events.Count > 0 ? events[^1].Timestamp : start;
        // (the echo of a repair starts empty: its events were queued during the repair, before start)
        var longestPause = TimeSpan.Zero;
        while (true)
        {
            while (reader.TryRead(out var e))
            {
                var pause = Stopwatch.GetElapsedTime(last, e.Timestamp);
                if (adaptive && pause > longestPause) longestPause = pause;
                last = Math.Max(last, e.Timestamp);
                events.Add(e);
                track(e);
            }
            if (reader.Completion.IsCompleted) return true;
            bool waiting = awaited.Waiting;
            if (!waiting && Stopwatch.GetElapsedTime(start) >= settings.MaxBurst) return true;
            var quiet = TimeSpan.FromTicks(Math.Clamp(3 * longestPause.Ticks, settings.Settle.Ticks, Math.Max(settings.Settle.Ticks, settings.MaxSettle.Ticks)));
            bool more = await MoreWithin(waiting ? awaited.TimeLeft : quiet, cancellationToken).ConfigureAwait(false);
            if (cancellationToken.IsCancellationRequested) return false;
            if (!more && !waiting) return true;
        }
    }

    /// <summary>Whether another event arrives within <paramref name="quiet"/> (the only timer: while a burst is open,
    /// or a repair waits to see whether more changes follow).</summary>
    public async Task<bool> MoreWithin(TimeSpan quiet, CancellationToken cancellationToken)
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
