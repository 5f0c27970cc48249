using System.Threading.Channels;
using VNetCompose.Core.Watching;
using VNetCompose.Model;

namespace VNetCompose.Core.Tests;

/// <summary>
/// <see cref="VNetEngine.WatchAsync"/> running in the background, on any kernel; its events are read with
/// <see cref="Next{T}"/> (which skips others) or <see cref="NextEvent"/>. Disposing cancels it and checks that it ended
/// cleanly (no exception) and promptly.
/// </summary>
internal sealed class RunningWatch : IAsyncDisposable
{
    private readonly Channel<WatchEvent> _events = Channel.CreateUnbounded<WatchEvent>();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _running;
    private readonly List<WatchEvent> _seen = [];
    private readonly TimeSpan _patience;

    public RunningWatch(VNetEngine engine, Topology topology, LabOptions options, bool heal, TimeSpan? patience = null)
    {
        _patience = patience ?? TimeSpan.FromSeconds(15);
        _running = Task.Run(async () =>
        {
            try
            {
                await foreach (var e in engine.WatchAsync(topology, options, heal, _stop.Token)) await _events.Writer.WriteAsync(e);
                _events.Writer.Complete();
            }
            catch (Exception e)
            {
                _events.Writer.Complete(e);
            }
        });
    }

    /// <summary>The next event of type <typeparamref name="T"/> (matching <paramref name="match"/>); events before it are skipped.</summary>
    public async Task<T> Next<T>(Func<T, bool>? match = null) where T : WatchEvent
    {
        using var timeout = new CancellationTokenSource(_patience);
        try
        {
            while (true)
            {
                var e = await _events.Reader.ReadAsync(timeout.Token);
                _seen.Add(e);
                if (e is T typed && (match?.Invoke(typed) ?? true)) return typed;
            }
        }
        catch (OperationCanceledException)
        {
            throw new Xunit.Sdk.XunitException($"no {typeof(T).Name} within {_patience.TotalSeconds} s; seen:\n" + Seen);
        }
    }

    /// <summary>The next event, whatever it is; null when none comes within <paramref name="wait"/>.</summary>
    public async Task<WatchEvent?> NextEvent(TimeSpan wait)
    {
        using var timeout = new CancellationTokenSource(wait);
        try
        {
            var e = await _events.Reader.ReadAsync(timeout.Token);
            _seen.Add(e);
            return e;
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    /// <summary>Every event read so far, as <c>vnet watch</c> prints them.</summary>
    public string Seen => string.Join("", _seen.Select(Rendering.WatchRenderer.Text));

    /// <summary>Ends the watch; it must end cleanly (no exception) and promptly.</summary>
    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        await _running.WaitAsync(TimeSpan.FromSeconds(10));
        while (_events.Reader.TryRead(out _)) { }
        await _events.Reader.Completion; // completed without an error
        _stop.Dispose();
    }
}
