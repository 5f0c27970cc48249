using System.Buffers.Binary;
using System.Text;
using VNetCompose.Netlink.Interop;

namespace VNetCompose.Netlink.Tests.Wire;

/// <summary>Builds messages the way the kernel sends them (no NLM_F_REQUEST), for parser tests without a kernel.</summary>
internal static class KernelAnswers
{
    public static byte[] Message(ushort type, uint sequence, ushort flags, byte[] payload)
    {
        int length = Nl.HeaderSize + payload.Length;
        var message = new byte[Nl.Align(length)];
        BinaryPrimitives.WriteUInt32LittleEndian(message, (uint)length);
        BinaryPrimitives.WriteUInt16LittleEndian(message.AsSpan(4), type);
        BinaryPrimitives.WriteUInt16LittleEndian(message.AsSpan(6), flags);
        BinaryPrimitives.WriteUInt32LittleEndian(message.AsSpan(8), sequence);
        payload.CopyTo(message, Nl.HeaderSize);
        return message;
    }

    /// <summary>An RTM_NEWLINK dump part carrying only an ifinfomsg with <paramref name="index"/>.</summary>
    public static byte[] Link(uint sequence, int index, ushort extraFlags = 0)
    {
        var payload = new byte[16];
        BinaryPrimitives.WriteInt32LittleEndian(payload.AsSpan(4), index);
        return Message(Rtm.NEWLINK, sequence, (ushort)(Nl.NLM_F_MULTI | extraFlags), payload);
    }

    public static byte[] Done(uint sequence, int status = 0, ushort extraFlags = 0) =>
        Message(Nl.NLMSG_DONE, sequence, (ushort)(Nl.NLM_F_MULTI | extraFlags), BitConverter.GetBytes(status));

    /// <summary>An NLMSG_ERROR: nlmsgerr (error + echoed request header), the echoed payload unless
    /// <paramref name="capped"/>, then the ext-ack TLVs when <paramref name="text"/> is given.</summary>
    public static byte[] Ack(uint sequence, int error = 0, string? text = null, bool capped = true, byte[]? echoedPayload = null, uint? offset = null)
    {
        echoedPayload ??= [];
        var body = new List<byte>();
        body.AddRange(BitConverter.GetBytes(error));
        body.AddRange(BitConverter.GetBytes((uint)(Nl.HeaderSize + echoedPayload.Length)));
        body.AddRange(BitConverter.GetBytes(Rtm.NEWLINK));
        body.AddRange(BitConverter.GetBytes((ushort)(Nl.NLM_F_REQUEST | Nl.NLM_F_ACK)));
        body.AddRange(BitConverter.GetBytes(sequence));
        body.AddRange(BitConverter.GetBytes(0u));
        if (!capped)
        {
            body.AddRange(echoedPayload);
            while (body.Count % 4 != 0) body.Add(0);
        }
        if (text is not null)
        {
            Attribute(body, Nl.NLMSGERR_ATTR_MSG, Encoding.UTF8.GetBytes(text + "\0"));
            if (offset is { } o) Attribute(body, Nl.NLMSGERR_ATTR_OFFS, BitConverter.GetBytes(o));
        }
        ushort flags = (ushort)((capped ? Nl.NLM_F_CAPPED : 0) | (text is null ? 0 : Nl.NLM_F_ACK_TLVS));
        return Message(Nl.NLMSG_ERROR, sequence, flags, [.. body]);
    }

    public static byte[] Datagram(params byte[][] messages) => messages.SelectMany(m => m).ToArray();

    private static void Attribute(List<byte> body, ushort type, byte[] payload)
    {
        body.AddRange(BitConverter.GetBytes((ushort)(4 + payload.Length)));
        body.AddRange(BitConverter.GetBytes(type));
        body.AddRange(payload);
        while (body.Count % 4 != 0) body.Add(0);
    }
}
