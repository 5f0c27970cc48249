using VNetCompose.Kernel.Ovs;
using VNetCompose.Ovsdb.Protocol;
using VNetCompose.Ovsdb.Rpc;

namespace VNetCompose.Ovsdb.Driver;

/// <summary>Settings of an <see cref="OvsdbDriver"/>.</summary>
/// <param name="Client">Time limits of the OVSDB connection.</param>
/// <param name="SwitchTimeout">How long <see cref="OvsdbDriver.ApplyAsync"/> waits for ovs-vswitchd to apply a
/// committed transaction.</param>
/// <param name="Attempts">How often a transaction whose checks failed (the database changed under it) is
/// rebuilt on a fresh snapshot and sent again.</param>
public sealed record OvsdbDriverOptions(OvsdbClientOptions Client, TimeSpan SwitchTimeout, int Attempts)
{
    /// <summary>The client's defaults, 10 s for ovs-vswitchd, 3 attempts.</summary>
    public static OvsdbDriverOptions Default { get; } = new(OvsdbClientOptions.Default, TimeSpan.FromSeconds(10), 3);
}

/// <summary>
/// <see cref="IOvsDriver"/> over OVSDB: observation is one transaction of selects, every apply one transaction
/// built by <see cref="OvsTransactionBuilder"/>. The connection is opened on first use and again after it was lost.
/// </summary>
public sealed partial class OvsdbDriver : IOvsDriver
{
    private readonly OvsdbDriverOptions _options;
    private readonly SemaphoreSlim _connectLock = new(1, 1);
    private OvsdbClient? _client;

    /// <summary>A driver for the ovsdb-server at <paramref name="endpoint"/>; nothing is connected yet.</summary>
    public OvsdbDriver(string endpoint, OvsdbDriverOptions? options = null)
    {
        Endpoint = OvsdbEndpoint.Normalize(endpoint);
        _options = options ?? OvsdbDriverOptions.Default;
    }

    /// <inheritdoc/>
    public string Endpoint { get; }

    /// <inheritdoc/>
    public async Task<OvsSwitchState> ObserveAsync(CancellationToken cancellationToken = default) =>
        (await SnapshotAsync(cancellationToken).ConfigureAwait(false)).ToState();

    /// <inheritdoc/>
    public async Task<OvsSwitchState> ApplyAsync(string owner, IReadOnlyList<OvsChange> changes, bool waitForSwitch = true,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(changes);
        if (changes.Count == 0) return await ObserveAsync(cancellationToken).ConfigureAwait(false);

        for (int attempt = 1; ; attempt++)
        {
            var snapshot = await SnapshotAsync(cancellationToken).ConfigureAwait(false);
            var transaction = OvsTransactionBuilder.Build(snapshot, owner, changes);
            var client = await ClientAsync(cancellationToken).ConfigureAwait(false);
            IReadOnlyList<OperationResult> results;
            try
            {
                results = await client.TransactAsync(VswitchSnapshot.Database, transaction.Operations, cancellationToken)
                    .ConfigureAwait(false);
            }
            catch (OvsdbTransactionException e) when (e.IsFailedCheck && e.OperationIndex is int index
                && transaction.CheckIndexes.Contains(index))
            {
                if (attempt >= _options.Attempts)
                {
                    throw new OvsConcurrentChangeException(
                        $"Open vSwitch at {Endpoint} kept changing while vnet applied its changes ({attempt} attempts); nothing was changed: {e.Message}", e);
                }
                continue; // rebuilt on a fresh snapshot, where the builder names any new ownership conflict
            }

            long nextConfig = results[transaction.NextConfigIndex].Rows![0]["next_cfg"].AsInteger();
            if (waitForSwitch) await WaitForSwitchAsync(client, nextConfig, cancellationToken).ConfigureAwait(false);
            return await ObserveAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Waits until ovs-vswitchd reports (cur_cfg) that it applied configuration <paramref name="nextConfig"/>.</summary>
    private async Task WaitForSwitchAsync(OvsdbClient client, long nextConfig, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.SwitchTimeout);
        long current = -1;
        await using var monitor = await client.MonitorAsync(VswitchSnapshot.Database,
            new Dictionary<string, MonitorRequest> { ["Open_vSwitch"] = new(["cur_cfg"]) }, cancellationToken).ConfigureAwait(false);
        try
        {
            current = CurrentConfig(monitor.Initial) ?? current;
            while (current < nextConfig)
            {
                var update = await monitor.Updates.ReadAsync(timeout.Token).ConfigureAwait(false);
                current = CurrentConfig(update) ?? current;
            }
        }
        catch (System.Threading.Channels.ChannelClosedException closed) when (closed.InnerException is OvsException lost)
        {
            throw lost; // the connection died while waiting: the client's "closed the connection during 'monitor'"
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new OvsException($"ovs-vswitchd did not apply the change within {_options.SwitchTimeout.TotalSeconds:0.#} s "
                + $"(Open_vSwitch cur_cfg {current}, next_cfg {nextConfig}); the database at {Endpoint} holds it: is ovs-vswitchd running?");
        }
    }

    private static long? CurrentConfig(TableUpdates updates) =>
        updates.Rows("Open_vSwitch").Select(r => r.Update.New).OfType<OvsdbRow>()
            .Where(row => row.ContainsKey("cur_cfg")).Select(row => (long?)row["cur_cfg"].AsInteger()).LastOrDefault();

    private async Task<VswitchSnapshot> SnapshotAsync(CancellationToken cancellationToken)
    {
        var client = await ClientAsync(cancellationToken).ConfigureAwait(false);
        var results = await client.TransactAsync(VswitchSnapshot.Database, VswitchSnapshot.Queries, cancellationToken).ConfigureAwait(false);
        return VswitchSnapshot.Parse(results, Endpoint);
    }

    /// <summary>The open connection, (re)connecting when there is none or the last one was lost.</summary>
    private async Task<OvsdbClient> ClientAsync(CancellationToken cancellationToken)
    {
        await _connectLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_client is { IsConnected: true } live) return live;
            if (_client is { } dead) await dead.DisposeAsync().ConfigureAwait(false);
            _client = null;
            _client = await OvsdbClient.ConnectAsync(Endpoint, _options.Client, cancellationToken).ConfigureAwait(false);
            return _client;
        }
        finally
        {
            _connectLock.Release();
        }
    }

    /// <summary>Closes the connection.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_client is { } client) await client.DisposeAsync().ConfigureAwait(false);
        _client = null;
        _connectLock.Dispose();
    }
}
