using VNetCompose.Kernel;
using VNetCompose.Netlink.Interop;
using VNetCompose.Netlink.Wire;
using static VNetCompose.Netlink.Tests.Wire.KernelAnswers;

namespace VNetCompose.Netlink.Tests.Wire;

public sealed class NetlinkRepliesTests
{
    private static KernelException Refusal(Action action) =>
        FluentActions.Invoking(action).Should().Throw<KernelException>().Which;

    [Fact]
    public void Dump_SpreadOverDatagrams_DeliversEveryPartUntilDone()
    {
        var indexes = new List<int>();
        var replies = new DumpReplies(7, m => indexes.Add(m.ReadStruct<IfInfoMsg>().Index));

        replies.Consume(Datagram(Link(7, 1), Link(7, 2)));
        replies.IsComplete.Should().BeFalse();
        replies.Consume(Datagram(Link(7, 3), Done(7)));

        replies.IsComplete.Should().BeTrue();
        indexes.Should().Equal(1, 2, 3);
        replies.ThrowIfFailed("dumping links"); // no failure
    }

    [Fact]
    public void Dump_SkipsMessagesOfOtherSequenceNumbers()
    {
        var indexes = new List<int>();
        var replies = new DumpReplies(7, m => indexes.Add(m.ReadStruct<IfInfoMsg>().Index));

        replies.Consume(Datagram(Link(6, 99), Done(6), Link(7, 1), Done(7)));

        indexes.Should().Equal(1);
        replies.IsComplete.Should().BeTrue();
    }

    [Fact]
    public void Dump_MarkedInterrupted_ThrowsATransientEintr()
    {
        var replies = new DumpReplies(7, _ => { });

        replies.Consume(Datagram(Link(7, 1), Link(7, 2, Nl.NLM_F_DUMP_INTR), Done(7, extraFlags: Nl.NLM_F_DUMP_INTR)));

        var error = Refusal(() => replies.ThrowIfFailed("observing namespace x: dumping links"));
        error.Errno.Should().Be(Errnos.EINTR);
        error.IsTransient.Should().BeTrue();
        error.Message.Should().StartWith("observing namespace x: dumping links: Interrupted system call (EINTR): the dump was interrupted");
    }

    [Fact]
    public void Dump_RefusedWithAnError_EndsAndThrowsTheKernelsText()
    {
        var replies = new DumpReplies(7, _ => { });

        replies.Consume(Ack(7, -Errnos.EINVAL, "Invalid header for link dump"));

        replies.IsComplete.Should().BeTrue();
        Refusal(() => replies.ThrowIfFailed("dumping")).Message.Should().Be("dumping: Invalid argument (EINVAL): Invalid header for link dump");
    }

    [Fact]
    public void Dump_FailingInItsDoneStatus_Throws()
    {
        var replies = new DumpReplies(7, _ => { });

        replies.Consume(Done(7, status: -Errnos.EBUSY));

        Refusal(() => replies.ThrowIfFailed("dumping")).Errno.Should().Be(Errnos.EBUSY);
    }

    [Fact]
    public void Acks_ForEveryMessage_CompleteTheRequest_AndRepliesReachTheHandler()
    {
        int replies = 0;
        var acks = new AckReplies(10, [true, true], _ => replies++);

        acks.Consume(Datagram(Link(10, 4)));
        acks.Consume(Ack(10));
        acks.PendingAcks.Should().Be(1);
        acks.Consume(Ack(11));

        acks.PendingAcks.Should().Be(0);
        replies.Should().Be(1);
        acks.ThrowIfFailed(i => $"message {i}");
    }

    [Fact]
    public void Acks_FirstRefusalIsReported_WithTheFailingMessagesDescription()
    {
        var acks = new AckReplies(10, [false, true, true, false], null);

        acks.Consume(Datagram(Ack(11), Ack(12, -Errnos.ENOENT, "No such table"), Ack(13, -Errnos.EINVAL)));

        acks.HasFailed.Should().BeTrue();
        var error = Refusal(() => acks.ThrowIfFailed(i => $"message #{i}"));
        (error.Errno, error.Operation, error.KernelMessage).Should().Be((Errnos.ENOENT, "message #2", "No such table"));
    }

    [Fact]
    public void Acks_Missing_AreReportedAsEio()
    {
        var acks = new AckReplies(10, [true, true], null);

        acks.Consume(Ack(10));

        var error = Refusal(() => acks.ThrowIfFailed(i => $"message #{i}"));
        (error.Errno, error.Operation).Should().Be((Errnos.EIO, "message #1"));
    }

    [Fact]
    public void Acks_OfOtherRequests_AreIgnored()
    {
        var acks = new AckReplies(10, [true], null);

        acks.Consume(Datagram(Ack(9, -Errnos.EEXIST), Ack(11, -Errnos.EEXIST)));

        acks.PendingAcks.Should().Be(1);
        acks.HasFailed.Should().BeFalse();
    }
}
