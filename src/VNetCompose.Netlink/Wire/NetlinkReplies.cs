using VNetCompose.Kernel;
using VNetCompose.Netlink.Interop;

namespace VNetCompose.Netlink.Wire;

/// <summary>Receives one message of a reply or dump; the message is only valid during the call.</summary>
internal delegate void NetlinkMessageHandler(NetlinkMessage message);

/// <summary>
/// The answers to one dump request, datagram by datagram: data messages go to the handler until
/// NLMSG_DONE (or an NLMSG_ERROR); messages of other sequence numbers (left over from an abandoned
/// request) are skipped; NLM_F_DUMP_INTR on any message marks the dump inconsistent.
/// </summary>
internal sealed class DumpReplies(uint sequence, NetlinkMessageHandler onMessage)
{
    private NetlinkStatus? _failure;
    private bool _interrupted;

    public bool IsComplete { get; private set; }

    public void Consume(ReadOnlySpan<byte> datagram)
    {
        foreach (var message in new NetlinkMessageEnumerator(datagram))
        {
            if (message.Sequence != sequence || IsComplete) continue;
            _interrupted |= (message.Flags & Nl.NLM_F_DUMP_INTR) != 0;
            switch (message.Type)
            {
                case Nl.NLMSG_DONE:
                    var status = NetlinkStatus.FromDone(message);
                    if (!status.IsSuccess) _failure ??= status;
                    IsComplete = true;
                    break;
                case Nl.NLMSG_ERROR:
                    _failure ??= NetlinkStatus.FromError(message);
                    IsComplete = true;
                    break;
                case Nl.NLMSG_NOOP or Nl.NLMSG_OVERRUN:
                    break;
                default:
                    onMessage(message);
                    break;
            }
        }
    }

    /// <summary>Throws the kernel's refusal, or a transient EINTR when the dump was interrupted.</summary>
    public void ThrowIfFailed(string operation)
    {
        if (_failure is { } f) throw new KernelException(f.Errno, operation, f.KernelMessage);
        if (_interrupted)
        {
            throw new KernelException(Errnos.EINTR, operation,
                "the dump was interrupted by a concurrent change (NLM_F_DUMP_INTR); retry");
        }
    }
}

/// <summary>
/// The answers to a request of one or more messages: counts the ACKs of the messages that asked for
/// one (NLM_F_ACK), keeps the first refusal of any message, hands other replies to the handler, and
/// skips messages whose sequence number is not one of the request's.
/// </summary>
internal sealed class AckReplies
{
    private readonly uint _firstSequence;
    private readonly bool[] _awaitingAck;
    private readonly NetlinkMessageHandler? _onReply;
    private (int Index, NetlinkStatus Status)? _failure;

    /// <param name="firstSequence">Sequence number of the request's first message; the others follow.</param>
    /// <param name="awaitingAck">Per message, in order: whether it asked for an ACK.</param>
    /// <param name="onReply">Called with each reply that is not an ACK or an error, if given.</param>
    public AckReplies(uint firstSequence, bool[] awaitingAck, NetlinkMessageHandler? onReply)
    {
        _firstSequence = firstSequence;
        _awaitingAck = awaitingAck;
        _onReply = onReply;
        PendingAcks = awaitingAck.Count(a => a);
    }

    public int PendingAcks { get; private set; }

    public bool HasFailed => _failure is not null;

    public void Consume(ReadOnlySpan<byte> datagram)
    {
        foreach (var message in new NetlinkMessageEnumerator(datagram))
        {
            int index = unchecked((int)(message.Sequence - _firstSequence));
            if (index < 0 || index >= _awaitingAck.Length) continue;
            if (message.Type == Nl.NLMSG_ERROR)
            {
                var status = NetlinkStatus.FromError(message);
                if (_awaitingAck[index])
                {
                    _awaitingAck[index] = false;
                    PendingAcks--;
                }
                if (!status.IsSuccess) _failure ??= (index, status);
            }
            else if (message.Type is not (Nl.NLMSG_NOOP or Nl.NLMSG_DONE or Nl.NLMSG_OVERRUN))
            {
                _onReply?.Invoke(message);
            }
        }
    }

    /// <summary>Throws the first refusal, named by <paramref name="describe"/>(index of the message),
    /// or EIO when a message that asked for an ACK got none.</summary>
    public void ThrowIfFailed(Func<int, string> describe)
    {
        if (_failure is { } f) throw new KernelException(f.Status.Errno, describe(f.Index), f.Status.KernelMessage);
        if (PendingAcks > 0)
        {
            int missing = Array.IndexOf(_awaitingAck, true);
            throw new KernelException(Errnos.EIO, describe(missing), "the kernel did not acknowledge this message");
        }
    }
}
