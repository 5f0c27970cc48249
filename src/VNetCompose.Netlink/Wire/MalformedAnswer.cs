using VNetCompose.Kernel;

namespace VNetCompose.Netlink.Wire;

/// <summary>
/// A kernel answer the readers cannot make sense of (a length beyond the datagram, an attribute shorter than its
/// type, an impossible address) is a kernel-side failure like any other: a <see cref="KernelException"/> with
/// EBADMSG and one line saying what was wrong, never an <see cref="InvalidDataException"/> or an index error
/// escaping with a stack trace.
/// </summary>
internal static class MalformedAnswer
{
    /// <summary>What a reader throws on bytes it cannot parse: its own complaints and the runtime's bounds checks.</summary>
    public static bool IsParseFailure(Exception e) =>
        e is InvalidDataException or ArgumentException or IndexOutOfRangeException or OverflowException or FormatException;

    public static KernelException Wrap(Exception e, string operation)
    {
        ArgumentNullException.ThrowIfNull(e);
        string what = e.Message.ReplaceLineEndings(" ");
        return new KernelException(Errnos.EBADMSG, operation, "malformed answer from the kernel: " + what, e);
    }

    /// <summary>Runs <paramref name="read"/>, turning a parse failure into the <see cref="KernelException"/> of <paramref name="operation"/>.</summary>
    public static void Guard(string operation, Action read)
    {
        ArgumentNullException.ThrowIfNull(read);
        try
        {
            read();
        }
        catch (Exception e) when (IsParseFailure(e))
        {
            throw Wrap(e, operation);
        }
    }
}
