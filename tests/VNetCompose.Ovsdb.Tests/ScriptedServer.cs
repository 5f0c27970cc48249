using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using VNetCompose.Ovsdb.Rpc;

namespace VNetCompose.Ovsdb.Tests;

/// <summary>
/// A stand-in ovsdb-server on a temporary unix socket that plays recorded replies: each <see cref="ReplyAsync"/>
/// reads one request from the client, hands it to the test and answers with the recorded reply text, its id
/// replaced by the request's.
/// </summary>
public sealed class ScriptedServer : IAsyncDisposable
{
    private readonly Socket _listener;
    private readonly string _directory;
    private Socket? _connection;
    private readonly JsonStreamFramer _framer = new();

    public ScriptedServer()
    {
        _directory = Directory.CreateTempSubdirectory("vnet-ovsdb-test-").FullName;
        SocketPath = Path.Combine(_directory, "db.sock");
        _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        _listener.Bind(new UnixDomainSocketEndPoint(SocketPath));
        _listener.Listen(1);
    }

    public string SocketPath { get; }

    public string Endpoint => "unix:" + SocketPath;

    /// <summary>Reads the client's next message.</summary>
    public async Task<JsonObject> ReadAsync()
    {
        _connection ??= await _listener.AcceptAsync().WaitAsync(TimeSpan.FromSeconds(10));
        while (true)
        {
            if (_framer.TryTake(out byte[] message)) return JsonNode.Parse(message)!.AsObject();
            int received = await _connection.ReceiveAsync(_framer.GetReceiveBuffer(), SocketFlags.None).AsTask()
                .WaitAsync(TimeSpan.FromSeconds(10));
            if (received == 0) throw new EndOfStreamException("the client closed the connection");
            _framer.Advance(received);
        }
    }

    /// <summary>Reads one request and answers it with <paramref name="replyText"/> (its id replaced).</summary>
    public async Task<JsonObject> ReplyAsync(string replyText)
    {
        var request = await ReadAsync();
        var reply = JsonNode.Parse(replyText)!.AsObject();
        reply["id"] = request["id"]!.DeepClone();
        await SendAsync(reply.ToJsonString());
        return request;
    }

    /// <summary>Sends raw text to the client (notifications, server requests, split messages).</summary>
    public async Task SendAsync(string text)
    {
        _connection ??= await _listener.AcceptAsync().WaitAsync(TimeSpan.FromSeconds(10));
        await _connection.SendAsync(Encoding.UTF8.GetBytes(text), SocketFlags.None);
    }

    /// <summary>Closes the client's connection as a dying server would.</summary>
    public void Drop()
    {
        _connection?.Dispose();
        _listener.Dispose();
    }

    public ValueTask DisposeAsync()
    {
        Drop();
        Directory.Delete(_directory, recursive: true);
        return ValueTask.CompletedTask;
    }
}
