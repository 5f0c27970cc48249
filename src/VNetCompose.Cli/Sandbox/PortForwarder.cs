using System.Net;
using System.Net.Sockets;
using VNetCompose.Cli.Sandbox.Interop;

namespace VNetCompose.Cli.Sandbox;

/// <summary>
/// One <c>--publish</c> at work inside the sandbox: accepts on listening sockets that <c>vnet sandbox</c> opened
/// on the machine's loopback before the namespaces existed (a socket stays in the network namespace it was made
/// in, and the descriptors were inherited), and for each connection opens one from the target namespace to the
/// target address, then copies bytes both ways until both sides are done. The target namespace is looked up at
/// each connection, so it may be created (by <c>vnet up</c>) after the sandbox starts.
/// </summary>
internal sealed class PortForwarder(PublishSpec spec, IReadOnlyList<Socket> listeners, TextWriter error)
{
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(10);

    public void Start()
    {
        foreach (var listener in listeners) _ = AcceptLoop(listener);
    }

    private async Task AcceptLoop(Socket listener)
    {
        while (true)
        {
            Socket client;
            try
            {
                client = await listener.AcceptAsync().ConfigureAwait(false);
            }
            catch (SocketException)
            {
                continue;
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            _ = Forward(client);
        }
    }

    private async Task Forward(Socket client)
    {
        using (client)
        {
            Socket server;
            try
            {
                server = OpenInTarget();
                using var timeout = new CancellationTokenSource(ConnectTimeout);
                await server.ConnectAsync(new IPEndPoint(spec.Address, spec.Port), timeout.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is SocketException or IOException or OperationCanceledException)
            {
                string why = e is OperationCanceledException ? "no answer within 10 s" : e.Message;
                await error.WriteLineAsync($"vnet sandbox: --publish {spec}: {why}").ConfigureAwait(false);
                return;
            }
            using (server)
            {
                await Task.WhenAll(Pump(client, server), Pump(server, client)).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Copies until the source has no more to send, then passes the end on (a half close).</summary>
    private static async Task Pump(Socket from, Socket to)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                int read = await from.ReceiveAsync(buffer, SocketFlags.None).ConfigureAwait(false);
                if (read == 0) break;
                await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None).ConfigureAwait(false);
            }
            to.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // One side reset the connection: the other is closed with it.
            try
            {
                to.Shutdown(SocketShutdown.Both);
            }
            catch (Exception again) when (again is SocketException or ObjectDisposedException)
            {
                // Already closed.
            }
        }
    }

    /// <summary>A socket of the target namespace: made on a thread that entered it (setns changes the calling thread only) and exits afterwards.</summary>
    private Socket OpenInTarget()
    {
        if (spec.Namespace == PublishSpec.Host) return new Socket(spec.Address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        string path = Path.Combine(SandboxMounts.NetnsDirectory, spec.Namespace);
        int fd = SandboxNative.Open(path, SandboxNative.O_RDONLY | SandboxNative.O_CLOEXEC);
        if (fd < 0) throw new IOException($"namespace {spec.Namespace} does not exist (yet): {SandboxNative.Describe(-fd)}");
        Socket? socket = null;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                int rc = SandboxNative.EnterNetworkNamespace(fd);
                if (rc < 0) throw new IOException($"entering namespace {spec.Namespace}: {SandboxNative.Describe(-rc)}");
                socket = new Socket(spec.Address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            }
            catch (Exception e)
            {
                failure = e;
            }
        })
        { IsBackground = true, Name = "vnet publish" };
        thread.Start();
        thread.Join();
        SandboxNative.Close(fd);
        if (failure is not null) throw failure as IOException ?? new IOException(failure.Message, failure);
        return socket!;
    }
}
