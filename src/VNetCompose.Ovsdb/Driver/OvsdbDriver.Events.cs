using System.Threading.Channels;
using VNetCompose.Kernel;
using VNetCompose.Kernel.Ovs;
using VNetCompose.Ovsdb.Protocol;
using VNetCompose.Ovsdb.Rpc;

namespace VNetCompose.Ovsdb.Driver;

public sealed partial class OvsdbDriver : IOvsEvents
{
    /// <summary>
    /// The columns followed: what <see cref="ObserveAsync"/> reads, without the ones ovs-vswitchd rewrites by itself
    /// (statistics, status, link state), so that a switch at rest sends nothing.
    /// </summary>
    private static readonly IReadOnlyDictionary<string, MonitorRequest> Followed = new Dictionary<string, MonitorRequest>(StringComparer.Ordinal)
    {
        ["Bridge"] = new(["name", "datapath_type", "datapath_id", "stp_enable", "fail_mode", "external_ids", "ports"], new MonitorSelect(Initial: false)),
        ["Port"] = new(["name", "tag", "trunks", "vlan_mode", "interfaces", "external_ids"], new MonitorSelect(Initial: false)),
        ["Interface"] = new(["name", "type", "ofport", "error", "external_ids"], new MonitorSelect(Initial: false)),
    };

    /// <summary>
    /// Equivalent to: <c>ovsdb-client monitor Open_vSwitch Bridge,Port,Interface</c> on a connection of its own (so that
    /// applying changes never waits behind notifications). See <see cref="IOvsEvents.SubscribeAsync"/>.
    /// </summary>
    public async Task<IKernelEventSubscription> SubscribeAsync(CancellationToken cancellationToken = default)
    {
        var client = await OvsdbClient.ConnectAsync(Endpoint, _options.Client, cancellationToken).ConfigureAwait(false);
        try
        {
            var monitor = await client.MonitorAsync(VswitchSnapshot.Database, Followed, cancellationToken).ConfigureAwait(false);
            return new MonitorSubscription(client, monitor);
        }
        catch
        {
            await client.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>A monitor's notifications turned into <see cref="OvsEvent"/>s, one per row changed.</summary>
    private sealed class MonitorSubscription : IKernelEventSubscription
    {
        private readonly OvsdbClient _client;
        private readonly OvsdbMonitor _monitor;
        private readonly Channel<KernelEvent> _events = Channel.CreateUnbounded<KernelEvent>(new UnboundedChannelOptions { SingleWriter = true });
        private readonly Task _pump;

        public MonitorSubscription(OvsdbClient client, OvsdbMonitor monitor)
        {
            _client = client;
            _monitor = monitor;
            _pump = Task.Run(PumpAsync);
        }

        public ChannelReader<KernelEvent> Events => _events.Reader;

        private async Task PumpAsync()
        {
            try
            {
                await foreach (var update in _monitor.Updates.ReadAllAsync().ConfigureAwait(false))
                {
                    foreach (string table in update.Tables)
                    {
                        foreach (var (_, row) in update.Rows(table))
                        {
                            var change = row.New is null ? KernelChange.Removed : row.Old is null ? KernelChange.Added : KernelChange.Changed;
                            string name = NameOf(row.New) ?? NameOf(row.Old) ?? "";
                            _events.Writer.TryWrite(new OvsEvent(change, table, name));
                        }
                    }
                }
                _events.Writer.TryComplete();
            }
            catch (Exception e)
            {
                _events.Writer.TryComplete(e is ChannelClosedException { InnerException: { } inner } ? inner : e);
            }
        }

        private static string? NameOf(OvsdbRow? row) => row is not null && row.TryGetValue("name", out var name) ? name.AsOptionalString() : null;

        public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

        public async ValueTask DisposeAsync()
        {
            await _monitor.DisposeAsync().ConfigureAwait(false);
            await _client.DisposeAsync().ConfigureAwait(false);
            await _pump.ConfigureAwait(false);
            _events.Writer.TryComplete();
        }
    }
}
