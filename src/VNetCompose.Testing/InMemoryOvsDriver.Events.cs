using System.Threading.Channels;
using VNetCompose.Kernel;
using VNetCompose.Kernel.Ovs;

namespace VNetCompose.Testing;

/// <summary>
/// Change notifications, as an OVSDB monitor of the Bridge, Port and Interface tables sends them: after each transaction
/// and each hand edit, one <see cref="OvsEvent"/> per row inserted, modified or deleted (a port's interface with it).
/// Delivered synchronously, before the call returns.
/// </summary>
public sealed partial class InMemoryOvsDriver : IOvsEvents
{
    private readonly List<Channel<KernelEvent>> _subscribers = [];
    private OvsSwitchState? _notified;

    /// <inheritdoc/>
    public Task<IKernelEventSubscription> SubscribeAsync(CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            ThrowIfUnavailable();
            var channel = Channel.CreateUnbounded<KernelEvent>();
            _subscribers.Add(channel);
            _notified ??= Snapshot();
            return Task.FromResult<IKernelEventSubscription>(new Subscription(this, channel));
        }
    }

    /// <summary>Compares the switch with what was last notified and sends the rows that differ.</summary>
    private void Notify()
    {
        if (_subscribers.Count == 0)
        {
            _notified = null;
            return;
        }
        var now = Snapshot();
        var before = _notified ?? now;
        _notified = now;
        var events = new List<OvsEvent>();
        Compare("Bridge", before.Bridges, now.Bridges, b => b.Name, (x, y) => (x.Datapath, x.Stp, x.FailMode, x.DatapathId) == (y.Datapath, y.Stp, y.FailMode, y.DatapathId)
            && x.ExternalIds.SequenceEqual(y.ExternalIds) && x.Ports.Select(p => p.Name).SequenceEqual(y.Ports.Select(p => p.Name)), events);
        var portsBefore = before.Bridges.SelectMany(b => b.Ports).ToList();
        var portsNow = now.Bridges.SelectMany(b => b.Ports).ToList();
        Compare("Port", portsBefore, portsNow, p => p.Name, SamePort, events);
        Compare("Interface", portsBefore.SelectMany(p => p.Interfaces).ToList(), portsNow.SelectMany(p => p.Interfaces).ToList(),
            i => i.Name, (x, y) => x.Type == y.Type && x.OfPort == y.OfPort && x.Error == y.Error && x.ExternalIds.SequenceEqual(y.ExternalIds), events);
        foreach (var subscriber in _subscribers)
        {
            foreach (var e in events) subscriber.Writer.TryWrite(e);
        }
    }

    private static bool SamePort(OvsPortState x, OvsPortState y) => x.Tag == y.Tag && x.Trunks.SequenceEqual(y.Trunks)
        && x.VlanMode == y.VlanMode && x.ExternalIds.SequenceEqual(y.ExternalIds) && x.Interfaces.Select(i => i.Name).SequenceEqual(y.Interfaces.Select(i => i.Name));

    private static void Compare<T>(string table, IReadOnlyList<T> before, IReadOnlyList<T> now, Func<T, string> name, Func<T, T, bool> same,
        List<OvsEvent> events)
    {
        var old = before.ToDictionary(name);
        var current = now.ToDictionary(name);
        foreach (var (key, row) in current)
        {
            if (!old.TryGetValue(key, out var was)) events.Add(new OvsEvent(KernelChange.Added, table, key));
            else if (!same(was, row)) events.Add(new OvsEvent(KernelChange.Changed, table, key));
        }
        foreach (var key in old.Keys.Where(k => !current.ContainsKey(k))) events.Add(new OvsEvent(KernelChange.Removed, table, key));
    }

    private void Unsubscribe(Channel<KernelEvent> channel)
    {
        lock (_lock) _subscribers.Remove(channel);
        channel.Writer.TryComplete();
    }

    private sealed class Subscription(InMemoryOvsDriver driver, Channel<KernelEvent> channel) : IKernelEventSubscription
    {
        public ChannelReader<KernelEvent> Events => channel.Reader;

        public void Dispose() => driver.Unsubscribe(channel);

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
