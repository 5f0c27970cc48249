using System.Net;
using System.Net.Sockets;
using System.Text;

namespace VNetCompose.TestSupport;

/// <summary>What a client got: the peer address the server reported, or the socket error (refused, timed out).</summary>
public sealed record ConnectionOutcome(string? ServerSawPeer, SocketError Error)
{
    public override string ToString() => ServerSawPeer ?? Error.ToString();
}

/// <summary>
/// A TCP server listening inside a sandbox namespace that tells each client the peer address it sees, then
/// closes the connection: what NAT did to a connection is observed where it matters. Sockets are opened
/// inside namespaces with <see cref="InsideNamespace"/>; traffic stays between namespaces the test created.
/// </summary>
public sealed class PeerReportingServer : IDisposable
{
    private readonly Socket _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _acceptLoop;

    public PeerReportingServer(string ns, IPEndPoint endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        _listener = InsideNamespace.Run(ns, () =>
        {
            var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                socket.Bind(endpoint);
                socket.Listen();
                return socket;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        });
        _acceptLoop = AcceptLoop();
    }

    private async Task AcceptLoop()
    {
        while (!_stop.IsCancellationRequested)
        {
            using var connection = await _listener.AcceptAsync(_stop.Token);
            var peer = (IPEndPoint)connection.RemoteEndPoint!;
            await connection.SendAsync(Encoding.ASCII.GetBytes(peer.Address.ToString()), SocketFlags.None, _stop.Token);
            connection.Shutdown(SocketShutdown.Both);
        }
    }

    /// <summary>Connects from a socket created inside <paramref name="ns"/> and reads what the server says;
    /// connect and read are bounded by <paramref name="timeout"/> (3 s by default).</summary>
    public static ConnectionOutcome Ask(string ns, IPEndPoint target, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(target);
        using var socket = InsideNamespace.Run(ns, () => new Socket(target.AddressFamily, SocketType.Stream, ProtocolType.Tcp));
        using var deadline = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(3));
        try
        {
            socket.ConnectAsync(target, deadline.Token).AsTask().GetAwaiter().GetResult();
            var answer = new List<byte>();
            var buffer = new byte[64];
            int read;
            while ((read = socket.ReceiveAsync(buffer, SocketFlags.None, deadline.Token).AsTask().GetAwaiter().GetResult()) > 0)
            {
                answer.AddRange(buffer.AsSpan(0, read));
            }
            return new ConnectionOutcome(Encoding.ASCII.GetString([.. answer]), SocketError.Success);
        }
        catch (SocketException e)
        {
            return new ConnectionOutcome(null, e.SocketErrorCode);
        }
        catch (OperationCanceledException)
        {
            return new ConnectionOutcome(null, SocketError.TimedOut);
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Dispose();
        try
        {
            _acceptLoop.GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // The loop ends by cancellation or by its socket being closed.
        }
        _stop.Dispose();
    }
}
