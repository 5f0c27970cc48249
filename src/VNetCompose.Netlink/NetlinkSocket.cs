using System.Runtime.InteropServices;
using VNetCompose.Kernel;
using VNetCompose.Netlink.Interop;
using VNetCompose.Netlink.Wire;

namespace VNetCompose.Netlink;

/// <summary>
/// A netlink socket bound to the namespace it was created in (see <see cref="Namespaces.NamespaceHandle"/>),
/// usable from any thread; one request runs at a time. Extended ACKs (NETLINK_EXT_ACK) and capped ACKs
/// (NETLINK_CAP_ACK) are enabled, so every refusal becomes a <see cref="KernelException"/> carrying
/// the kernel's own text. After a transport failure (receive queue overrun, timeout, truncation) the
/// socket reports <see cref="IsBroken"/> and its owner replaces it.
/// </summary>
internal sealed class NetlinkSocket : IDisposable
{
    private const int DatagramBufferSize = 64 * 1024; // the kernel sends dump datagrams of at most 32 KiB
    private const int ReceiveQueueBytes = 4 * 1024 * 1024; // room for the ACKs of large nf_tables batches
    private const int SendBufferSlack = 4096; // the kernel wants the datagram to fit with room for its skb overhead
    private static readonly TimeSpan ReplyTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The receive buffer of the calling thread, taken while a request is read and given back after: a
    /// buffer per socket cost 64 KiB of freshly zeroed memory for each of hundreds of namespaces.
    /// A nested request on the same thread (from a reply handler) finds none and gets its own.
    /// </summary>
    [ThreadStatic]
    private static byte[]? t_idleDatagram;

    private readonly Lock _lock = new();
    private int _fd;
    private uint _lastSequence;

    private NetlinkSocket(int fd, NetlinkProtocol protocol)
    {
        _fd = fd;
        Protocol = protocol;
    }

    public NetlinkProtocol Protocol { get; }

    public bool IsBroken { get; private set; }

    /// <summary>Opens a socket in the calling thread's network namespace.</summary>
    public static NetlinkSocket Open(NetlinkProtocol protocol)
    {
        string operation = $"opening a netlink socket ({protocol})";
        int fd = Native.OpenNetlinkSocket(protocol);
        if (fd < 0) throw new KernelException(-fd, operation);
        try
        {
            Check(Native.SetSocketOption(fd, Nl.SOL_NETLINK, Nl.NETLINK_EXT_ACK, 1), operation + ": NETLINK_EXT_ACK");
            Check(Native.SetSocketOption(fd, Nl.SOL_NETLINK, Nl.NETLINK_CAP_ACK, 1), operation + ": NETLINK_CAP_ACK");
            Check(Native.SetReceiveBuffer(fd, ReceiveQueueBytes), operation + ": SO_RCVBUF");
            Check(Native.SetReceiveTimeout(fd, ReplyTimeout), operation + ": SO_RCVTIMEO");
            Check(Native.BindNetlink(fd), operation + ": bind");
            return new NetlinkSocket(fd, protocol);
        }
        catch
        {
            Native.Close(fd);
            throw;
        }
    }

    /// <summary>
    /// Sends every message of <paramref name="request"/> in one datagram, each with NLM_F_ACK, and
    /// waits for all their ACKs. Replies other than ACKs (e.g. the answer to a non-dump GET) go to
    /// <paramref name="onReply"/>. The first refusal is thrown once every ACK has been read.
    /// </summary>
    public void Execute(NetlinkMessageBuilder request, string operation, NetlinkMessageHandler? onReply = null) =>
        Transact(request, forceAck: true, batch: false, _ => operation, onReply);

    /// <summary>
    /// Sends a batch (e.g. nf_tables BATCH_BEGIN ... BATCH_END) as it was built, in one datagram.
    /// Messages carrying NLM_F_ACK must be acknowledged; an error may come for any message. The kernel
    /// handles a batch synchronously inside sendmsg, so every answer is queued when send returns; they
    /// are read without blocking. <paramref name="describe"/> names the operation of the message at
    /// an index (0-based, in build order) for the exception.
    /// </summary>
    public void ExecuteBatch(NetlinkMessageBuilder batch, Func<int, string> describe, NetlinkMessageHandler? onReply = null) =>
        Transact(batch, forceAck: false, batch: true, describe, onReply);

    /// <summary>
    /// Sends one dump request (NLM_F_DUMP is added) and hands every reply to <paramref name="onMessage"/>
    /// until NLMSG_DONE. A dump the kernel marked NLM_F_DUMP_INTR (the object set changed during the
    /// dump) throws a transient <see cref="KernelException"/> with EINTR after the dump completed.
    /// </summary>
    public void Dump(NetlinkMessageBuilder request, string operation, NetlinkMessageHandler onMessage)
    {
        if (request.MessageCount != 1) throw new ArgumentException("a dump request is exactly one message", nameof(request));
        lock (_lock)
        {
            ThrowIfUnusable();
            var replies = new DumpReplies(StampSequences(request, addFlags: Nl.NLM_F_DUMP), onMessage);
            SendDatagram(request, operation);
            var datagram = TakeDatagram();
            try
            {
                while (!replies.IsComplete)
                {
                    int length = ReceiveDatagram(datagram, operation, dontWait: false);
                    ConsumeOrRetire(() => replies.Consume(datagram.AsSpan(0, length)), operation);
                }
            }
            finally
            {
                t_idleDatagram = datagram;
            }
            replies.ThrowIfFailed(operation);
        }
    }

    private void Transact(NetlinkMessageBuilder request, bool forceAck, bool batch, Func<int, string> describe,
        NetlinkMessageHandler? onReply)
    {
        if (request.MessageCount == 0) return;
        lock (_lock)
        {
            ThrowIfUnusable();
            uint first = StampSequences(request, addFlags: forceAck ? Nl.NLM_F_ACK : (ushort)0);
            var replies = new AckReplies(first, AckExpectations(request), onReply);
            SendDatagram(request, describe(0));
            var datagram = TakeDatagram();
            try
            {
                while (replies.PendingAcks > 0 || batch)
                {
                    // A batch is read without blocking (its answers are all queued); so is the rest of a
                    // request once it failed, in case the kernel stopped before acknowledging the others.
                    int length = ReceiveDatagram(datagram, describe(0), dontWait: batch || replies.HasFailed);
                    if (length < 0) break; // nothing more queued
                    ConsumeOrRetire(() => replies.Consume(datagram.AsSpan(0, length)), describe(0));
                }
            }
            finally
            {
                t_idleDatagram = datagram;
            }
            replies.ThrowIfFailed(describe);
        }
    }

    /// <summary>Parses a datagram; if that throws (a handler's error, a malformed answer), the rest of
    /// the answer stays unread, so the socket is retired. A malformed answer is a <see cref="KernelException"/>
    /// (EBADMSG) of <paramref name="operation"/>, see <see cref="MalformedAnswer"/>.</summary>
    private void ConsumeOrRetire(Action consume, string operation)
    {
        try
        {
            MalformedAnswer.Guard(operation, consume);
        }
        catch
        {
            IsBroken = true;
            throw;
        }
    }

    /// <summary>Gives each message the next sequence number; returns the first one.</summary>
    private uint StampSequences(NetlinkMessageBuilder request, ushort addFlags)
    {
        var buffer = request.WrittenMutable;
        uint first = _lastSequence + 1;
        int offset = 0;
        while (offset < buffer.Length)
        {
            ref var header = ref MemoryMarshal.AsRef<NlMsgHdr>(buffer[offset..]);
            header.Sequence = ++_lastSequence;
            header.Flags |= addFlags;
            offset += Nl.Align((int)header.Length);
        }
        return first;
    }

    private static bool[] AckExpectations(NetlinkMessageBuilder request)
    {
        var expectations = new bool[request.MessageCount];
        int i = 0;
        foreach (var message in new NetlinkMessageEnumerator(request.Written))
        {
            expectations[i++] = (message.Flags & Nl.NLM_F_ACK) != 0;
        }
        return expectations;
    }

    private void SendDatagram(NetlinkMessageBuilder request, string operation)
    {
        int rc = Native.Send(_fd, request.Written);
        if (rc == -Errnos.EMSGSIZE)
        {
            // netlink_sendmsg refuses a datagram larger than the send buffer (wmem_default, ~208 KiB):
            // a batch of many nf_tables rules is. Grow the buffer to fit, as nft does, and send again.
            int grown = Native.SetSendBuffer(_fd, request.Written.Length + SendBufferSlack);
            if (grown < 0) throw new KernelException(-grown, operation + ": SO_SNDBUF");
            rc = Native.Send(_fd, request.Written);
        }
        if (rc < 0) throw new KernelException(-rc, operation);
    }

    private static byte[] TakeDatagram()
    {
        var datagram = t_idleDatagram ?? new byte[DatagramBufferSize];
        t_idleDatagram = null;
        return datagram;
    }

    /// <summary>Receives one datagram into <paramref name="datagram"/>; -1 when <paramref name="dontWait"/> and none is queued.</summary>
    private int ReceiveDatagram(byte[] datagram, string operation, bool dontWait)
    {
        while (true)
        {
            int rc = Native.Receive(_fd, datagram, dontWait, out bool truncated);
            if (rc == -Errnos.EINTR) continue; // a signal, not the kernel's answer
            if (rc == -Errnos.EAGAIN)
            {
                if (dontWait) return -1;
                IsBroken = true;
                throw new KernelException(Errnos.ETIMEDOUT, operation, $"no answer from the kernel within {ReplyTimeout.TotalSeconds} s");
            }
            if (rc < 0)
            {
                IsBroken = true; // ENOBUFS: answers were dropped, the stream can no longer be trusted
                throw new KernelException(-rc, operation);
            }
            if (truncated)
            {
                IsBroken = true;
                throw new KernelException(Errnos.EIO, operation, $"a netlink answer exceeded {DatagramBufferSize} bytes");
            }
            return rc;
        }
    }

    private void ThrowIfUnusable()
    {
        ObjectDisposedException.ThrowIf(_fd < 0, this);
        if (IsBroken) throw new InvalidOperationException("the netlink socket failed earlier and must be replaced");
    }

    private static void Check(int rc, string operation)
    {
        if (rc < 0) throw new KernelException(-rc, operation);
    }

    public void Dispose()
    {
        lock (_lock)
        {
            if (_fd >= 0)
            {
                Native.Close(_fd);
                _fd = -1;
            }
        }
    }
}
