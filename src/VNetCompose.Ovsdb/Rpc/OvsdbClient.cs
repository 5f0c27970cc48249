using System.Buffers;
using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text.Json;
using System.Threading.Channels;
using VNetCompose.Kernel.Ovs;
using VNetCompose.Ovsdb.Protocol;

namespace VNetCompose.Ovsdb.Rpc;

/// <summary>Time limits of an <see cref="OvsdbClient"/>.</summary>
/// <param name="ConnectTimeout">How long connecting may take.</param>
/// <param name="CallTimeout">How long one request may wait for its reply.</param>
public sealed record OvsdbClientOptions(TimeSpan ConnectTimeout, TimeSpan CallTimeout)
{
    /// <summary>5 s to connect, 30 s per call.</summary>
    public static OvsdbClientOptions Default { get; } = new(TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(30));
}

/// <summary>
/// An OVSDB (RFC 7047) JSON-RPC client over a unix socket: <c>transact</c>, <c>monitor</c> with its
/// "update" notifications, <c>monitor_cancel</c>, <c>list_dbs</c>, <c>get_schema</c> and <c>echo</c> in both
/// directions. Requests may be issued concurrently; one background loop reads replies and notifications.
/// Failures are <see cref="OvsException"/>s whose message is one line naming the endpoint:
/// <see cref="OvsUnavailableException"/> when no server answers or it goes away mid-call,
/// <see cref="OvsdbTransactionException"/>, <see cref="OvsdbRpcException"/>, <see cref="OvsdbTimeoutException"/>.
/// </summary>
public sealed class OvsdbClient : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly OvsdbClientOptions _options;
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly ConcurrentDictionary<long, PendingCall> _pending = new();
    private readonly ConcurrentDictionary<string, Channel<TableUpdates>> _monitors = new(StringComparer.Ordinal);
    private readonly Task _readLoop;
    private long _nextId;
    private long _nextMonitor;
    private volatile Exception? _closedBecause;

    private OvsdbClient(Socket socket, string endpoint, OvsdbClientOptions options)
    {
        _socket = socket;
        Endpoint = endpoint;
        _options = options;
        _readLoop = Task.Run(ReadLoopAsync);
    }

    /// <summary>The endpoint, as <c>unix:/path</c>.</summary>
    public string Endpoint { get; }

    /// <summary>False once the connection was lost or closed.</summary>
    public bool IsConnected => _closedBecause is null;

    /// <summary>Connects to ovsdb-server at <paramref name="endpoint"/> (<c>unix:/path</c>).</summary>
    /// <exception cref="OvsUnavailableException">No server listens there; the message says how to start one.</exception>
    public static async Task<OvsdbClient> ConnectAsync(string endpoint, OvsdbClientOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        options ??= OvsdbClientOptions.Default;
        string path = OvsdbEndpoint.SocketPath(endpoint);
        string normalized = "unix:" + path;
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(options.ConnectTimeout);
            try
            {
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new OvsUnavailableException(
                    $"ovsdb-server at {normalized} did not accept the connection within {options.ConnectTimeout.TotalSeconds:0.#} s");
            }
            catch (SocketException e)
            {
                throw OvsdbErrors.ConnectFailed(normalized, path, e);
            }
            return new OvsdbClient(socket, normalized, options);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>The databases the server holds (<c>list_dbs</c>).</summary>
    public async Task<IReadOnlyList<string>> ListDatabasesAsync(CancellationToken cancellationToken = default)
    {
        var result = await CallAsync("list_dbs", _ => { }, cancellationToken).ConfigureAwait(false);
        return result.Deserialize(OvsdbJsonContext.Default.ListString) ?? [];
    }

    /// <summary>The schema of <paramref name="database"/> (<c>get_schema</c>) as JSON.</summary>
    public Task<JsonElement> GetSchemaAsync(string database, CancellationToken cancellationToken = default) =>
        CallAsync("get_schema", w => w.WriteStringValue(database), cancellationToken);

    /// <summary>A round trip (<c>echo</c>): proves the server is alive and has processed everything sent before.</summary>
    public Task EchoAsync(CancellationToken cancellationToken = default) =>
        CallAsync("echo", w => w.WriteStringValue("vnet"), cancellationToken);

    /// <summary>
    /// Runs <paramref name="operations"/> as one atomic transaction (<c>transact</c>) and returns one result per
    /// operation. A failed operation or commit throws <see cref="OvsdbTransactionException"/>, and then nothing
    /// was changed.
    /// </summary>
    public async Task<IReadOnlyList<OperationResult>> TransactAsync(string database, IReadOnlyList<OvsdbOperation> operations,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(operations);
        var reply = await CallAsync("transact", writer =>
        {
            writer.WriteStringValue(database);
            foreach (var operation in operations)
                JsonSerializer.Serialize(writer, operation, OvsdbJsonContext.Default.OvsdbOperation);
        }, cancellationToken).ConfigureAwait(false);

        var results = ParseTransactResults(reply);
        if (OvsdbErrors.TransactionFailure(Endpoint, operations, results) is { } failure) throw failure;
        if (results.Count < operations.Count)
            throw new OvsException($"ovsdb-server at {Endpoint} answered {results.Count} results for {operations.Count} operations");
        return [.. results.Take(operations.Count).Select(r => r!)];
    }

    /// <summary>
    /// Starts a <c>monitor</c>: the reply's initial contents, then every change as an "update" notification,
    /// until the returned monitor is disposed (<c>monitor_cancel</c>).
    /// </summary>
    public async Task<OvsdbMonitor> MonitorAsync(string database, IReadOnlyDictionary<string, MonitorRequest> tables,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tables);
        string id = $"vnet-{Interlocked.Increment(ref _nextMonitor)}";
        var channel = Channel.CreateUnbounded<TableUpdates>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        // Registered before the request: the server may send the first update right after the reply.
        _monitors[id] = channel;
        try
        {
            var request = new Dictionary<string, MonitorRequest>(tables, StringComparer.Ordinal);
            var reply = await CallAsync("monitor", writer =>
            {
                writer.WriteStringValue(database);
                writer.WriteStringValue(id);
                JsonSerializer.Serialize(writer, request, OvsdbJsonContext.Default.DictionaryStringMonitorRequest);
            }, cancellationToken).ConfigureAwait(false);
            return new OvsdbMonitor(this, id, TableUpdates.Read(reply), channel.Reader);
        }
        catch
        {
            _monitors.TryRemove(id, out _);
            throw;
        }
    }

    internal async Task CancelMonitorAsync(string id)
    {
        if (!_monitors.TryRemove(id, out var channel)) return;
        channel.Writer.TryComplete();
        if (_closedBecause is not null) return;
        try
        {
            await CallAsync("monitor_cancel", w => w.WriteStringValue(id), CancellationToken.None).ConfigureAwait(false);
        }
        catch (OvsException)
        {
            // The server is gone or has forgotten the monitor: either way it no longer sends updates.
        }
    }

    internal static List<OperationResult?> ParseTransactResults(JsonElement reply)
    {
        if (reply.ValueKind != JsonValueKind.Array)
            throw new OvsException($"a transact reply must be a JSON array, not {reply.ValueKind}");
        return reply.Deserialize(OvsdbJsonContext.Default.ListOperationResult) ?? [];
    }

    /// <summary>Sends one request and waits for its reply's result.</summary>
    internal async Task<JsonElement> CallAsync(string method, Action<Utf8JsonWriter> writeParams, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_stop.IsCancellationRequested && _closedBecause is ObjectDisposedException, this);
        if (_closedBecause is { } closed) throw OvsdbErrors.ConnectionLost(Endpoint, method, closed);

        long id = Interlocked.Increment(ref _nextId);
        var call = new PendingCall(method);
        _pending[id] = call;
        try
        {
            var buffer = new ArrayBufferWriter<byte>();
            using (var writer = new Utf8JsonWriter(buffer))
            {
                writer.WriteStartObject();
                writer.WriteString("method", method);
                writer.WritePropertyName("params");
                writer.WriteStartArray();
                writeParams(writer);
                writer.WriteEndArray();
                writer.WriteNumber("id", id);
                writer.WriteEndObject();
            }
            await SendAsync(buffer.WrittenMemory, method, cancellationToken).ConfigureAwait(false);
            try
            {
                return await call.Reply.Task.WaitAsync(_options.CallTimeout, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                throw new OvsdbTimeoutException(
                    $"ovsdb-server at {Endpoint} did not answer '{method}' within {_options.CallTimeout.TotalSeconds:0.#} s");
            }
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
    }

    private async Task SendAsync(ReadOnlyMemory<byte> message, string method, CancellationToken cancellationToken)
    {
        await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            while (!message.IsEmpty)
            {
                int sent = await _socket.SendAsync(message, SocketFlags.None, cancellationToken).ConfigureAwait(false);
                message = message[sent..];
            }
        }
        catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException)
        {
            throw OvsdbErrors.ConnectionLost(Endpoint, method, e);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private async Task ReadLoopAsync()
    {
        var framer = new JsonStreamFramer();
        Exception? cause = null;
        try
        {
            while (true)
            {
                int received = await _socket.ReceiveAsync(framer.GetReceiveBuffer(), SocketFlags.None, _stop.Token).ConfigureAwait(false);
                if (received == 0) break; // the server closed the connection
                framer.Advance(received);
                while (framer.TryTake(out byte[] message)) await DispatchAsync(message).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            cause = new ObjectDisposedException(nameof(OvsdbClient));
        }
        catch (Exception e)
        {
            cause = e;
        }
        Close(cause ?? new EndOfStreamException($"ovsdb-server at {Endpoint} closed the connection"));
    }

    private void Close(Exception cause)
    {
        _closedBecause ??= cause;
        foreach (var (id, call) in _pending)
        {
            if (_pending.TryRemove(id, out _))
            {
                call.Reply.TrySetException(cause is ObjectDisposedException
                    ? new ObjectDisposedException(nameof(OvsdbClient), $"the OVSDB client was disposed during '{call.Method}'")
                    : OvsdbErrors.ConnectionLost(Endpoint, call.Method, cause));
            }
        }
        foreach (var (id, channel) in _monitors)
        {
            if (_monitors.TryRemove(id, out _)) channel.Writer.TryComplete(OvsdbErrors.ConnectionLost(Endpoint, "monitor", cause));
        }
    }

    private async Task DispatchAsync(byte[] message)
    {
        using var document = JsonDocument.Parse(message);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object) return;
        bool hasId = root.TryGetProperty("id", out var id) && id.ValueKind != JsonValueKind.Null;

        if (root.TryGetProperty("method", out var methodElement))
        {
            string? method = methodElement.GetString();
            var parameters = root.TryGetProperty("params", out var p) ? p : default;
            if (method == "echo" && hasId)
            {
                // The server's inactivity probe: answer with the same params, or it drops the connection.
                await ReplyAsync(id, parameters).ConfigureAwait(false);
            }
            else if (method == "update" && parameters.ValueKind == JsonValueKind.Array && parameters.GetArrayLength() == 2
                && parameters[0].ValueKind == JsonValueKind.String
                && _monitors.TryGetValue(parameters[0].GetString()!, out var channel))
            {
                channel.Writer.TryWrite(TableUpdates.Read(parameters[1]));
            }
            return; // other notifications ("locked", "stolen", …) concern features vnet does not use
        }

        if (!hasId || id.ValueKind != JsonValueKind.Number || !id.TryGetInt64(out long callId)
            || !_pending.TryRemove(callId, out var call))
        {
            return; // a reply to a call that timed out or was cancelled
        }
        if (root.TryGetProperty("error", out var error) && error.ValueKind != JsonValueKind.Null)
        {
            call.Reply.TrySetException(RpcError(call.Method, error));
        }
        else if (root.TryGetProperty("result", out var result))
        {
            call.Reply.TrySetResult(result.Clone());
        }
        else
        {
            call.Reply.TrySetException(new OvsException($"ovsdb-server at {Endpoint} answered '{call.Method}' with neither result nor error"));
        }
    }

    private OvsdbRpcException RpcError(string method, JsonElement error) => error.ValueKind switch
    {
        JsonValueKind.String => new OvsdbRpcException(Endpoint, method, error.GetString()!, null),
        JsonValueKind.Object => new OvsdbRpcException(Endpoint, method,
            error.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.String ? e.GetString()! : error.GetRawText(),
            error.TryGetProperty("details", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null),
        _ => new OvsdbRpcException(Endpoint, method, error.GetRawText(), null),
    };

    private async Task ReplyAsync(JsonElement id, JsonElement result)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WritePropertyName("id");
            id.WriteTo(writer);
            writer.WritePropertyName("result");
            if (result.ValueKind == JsonValueKind.Undefined)
            {
                writer.WriteStartArray();
                writer.WriteEndArray();
            }
            else
            {
                result.WriteTo(writer);
            }
            writer.WriteNull("error");
            writer.WriteEndObject();
        }
        try
        {
            await SendAsync(buffer.WrittenMemory, "echo", _stop.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OvsException or OperationCanceledException)
        {
            // The read loop notices a dead connection by itself.
        }
    }

    /// <summary>Closes the connection; calls still waiting fail with <see cref="ObjectDisposedException"/>.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_stop.IsCancellationRequested) return;
        _closedBecause ??= new ObjectDisposedException(nameof(OvsdbClient));
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
            // already closed by the peer
        }
        _socket.Dispose();
        try
        {
            await _readLoop.ConfigureAwait(false);
        }
        catch (Exception)
        {
            // the loop reports through Close, never by throwing
        }
        Close(_closedBecause);
        _stop.Dispose();
        _sendLock.Dispose();
    }

    private sealed class PendingCall(string method)
    {
        public string Method { get; } = method;
        public TaskCompletionSource<JsonElement> Reply { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

/// <summary>A running <c>monitor</c>: its initial contents and a stream of changes. Dispose to cancel it.</summary>
public sealed class OvsdbMonitor : IAsyncDisposable
{
    private readonly OvsdbClient _client;

    internal OvsdbMonitor(OvsdbClient client, string id, TableUpdates initial, ChannelReader<TableUpdates> updates)
    {
        _client = client;
        Id = id;
        Initial = initial;
        Updates = updates;
    }

    /// <summary>The monitor id sent to the server (the first member of every "update" notification).</summary>
    public string Id { get; }

    /// <summary>The monitored rows as they were when the monitor started.</summary>
    public TableUpdates Initial { get; }

    /// <summary>Each "update" notification in order; completes with an <see cref="OvsUnavailableException"/>
    /// if the connection is lost.</summary>
    public ChannelReader<TableUpdates> Updates { get; }

    /// <summary>Sends <c>monitor_cancel</c> (when the connection still lives) and ends <see cref="Updates"/>.</summary>
    public async ValueTask DisposeAsync() => await _client.CancelMonitorAsync(Id).ConfigureAwait(false);
}

/// <summary>Row changes per table (RFC 7047 &lt;table-updates&gt;), from a monitor reply or notification.</summary>
public sealed class TableUpdates
{
    private readonly Dictionary<string, Dictionary<string, RowUpdate>> _tables;

    private TableUpdates(Dictionary<string, Dictionary<string, RowUpdate>> tables)
    {
        _tables = tables;
    }

    /// <summary>The tables with changes.</summary>
    public IEnumerable<string> Tables => _tables.Keys;

    /// <summary>The changed rows of <paramref name="table"/> by uuid; empty when it has none.</summary>
    public IReadOnlyList<(Guid Uuid, RowUpdate Update)> Rows(string table) =>
        _tables.TryGetValue(table, out var rows)
            ? [.. rows.Select(r => (Guid.Parse(r.Key), r.Value))]
            : [];

    internal static TableUpdates Read(JsonElement json) =>
        new(json.Deserialize(OvsdbJsonContext.Default.DictionaryStringDictionaryStringRowUpdate) ?? []);
}
