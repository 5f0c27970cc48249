using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace VNetCompose.TestSupport;

/// <summary>
/// One TCP connection between two sandbox namespaces sending as fast as it can: a receiver listening in
/// one namespace, a sender connecting from the other, each socket opened inside its namespace with
/// <see cref="InsideNamespace"/> and driven by a thread of its own. Counts what arrives, for tests that
/// check a shaped link's rate with generous bounds, and that traffic keeps flowing while it is reshaped.
/// </summary>
public sealed class BulkTcpTransfer : IDisposable
{
    private readonly Socket _listener;
    private readonly Socket _sender;
    private Socket? _receiver;
    private readonly Thread _sendLoop;
    private readonly Thread _receiveLoop;
    private long _received;
    private volatile bool _stopping;

    public BulkTcpTransfer(string senderNs, string receiverNs, IPEndPoint receiverEndpoint)
    {
        ArgumentNullException.ThrowIfNull(receiverEndpoint);
        _listener = InsideNamespace.Run(receiverNs, () =>
        {
            var socket = new Socket(receiverEndpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            socket.Bind(receiverEndpoint);
            socket.Listen(1);
            return socket;
        });
        _sender = InsideNamespace.Run(senderNs, () => new Socket(receiverEndpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp));
        _sender.SendTimeout = 30_000;
        var accepted = _listener.AcceptAsync();
        _sender.Connect(receiverEndpoint);
        _receiver = accepted.GetAwaiter().GetResult();
        _receiveLoop = new Thread(Receive) { IsBackground = true, Name = "bulk receive" };
        _sendLoop = new Thread(Send) { IsBackground = true, Name = "bulk send" };
        _receiveLoop.Start();
        _sendLoop.Start();
    }

    public long BytesReceived => Interlocked.Read(ref _received);

    /// <summary>The rate that arrived during <paramref name="window"/> from now, in bit/s.</summary>
    public double MeasureBitsPerSecond(TimeSpan window)
    {
        long before = BytesReceived;
        var clock = Stopwatch.StartNew();
        Thread.Sleep(window);
        return (BytesReceived - before) * 8 / clock.Elapsed.TotalSeconds;
    }

    /// <summary>Whether at least <paramref name="bytes"/> more arrive within <paramref name="within"/>.</summary>
    public bool Progresses(long bytes, TimeSpan within)
    {
        long target = BytesReceived + bytes;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < within)
        {
            if (BytesReceived >= target) return true;
            Thread.Sleep(20);
        }
        return BytesReceived >= target;
    }

    private void Send()
    {
        var block = new byte[64 * 1024];
        try
        {
            while (!_stopping) _sender.Send(block);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // closed by Dispose (or the peer): the transfer is over
        }
    }

    private void Receive()
    {
        var buffer = new byte[256 * 1024];
        try
        {
            int read;
            while ((read = _receiver!.Receive(buffer)) > 0) Interlocked.Add(ref _received, read);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // closed by Dispose
        }
    }

    public void Dispose()
    {
        _stopping = true;
        _sender.Dispose();
        _receiver?.Dispose();
        _listener.Dispose();
        _sendLoop.Join(TimeSpan.FromSeconds(5));
        _receiveLoop.Join(TimeSpan.FromSeconds(5));
    }
}
