using System.Buffers.Binary;
using System.Net;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using VNetCompose.Netlink.Interop;

namespace VNetCompose.Netlink.Wire;

/// <summary>
/// Writes netlink messages into one buffer: header, fixed struct, attributes (nested too), each
/// padded to 4 bytes; several messages may follow each other (a batch sent in one sendmsg).
/// Sequence numbers are left 0: <see cref="NetlinkSocket"/> stamps them when it sends.
/// Headers and integers are in host order, as netlink wants, unless the method says BigEndian
/// (nf_tables attribute values are in network order).
/// </summary>
internal sealed class NetlinkMessageBuilder
{
    private byte[] _buffer;
    private int _length;
    private int _messageStart = -1;
    private int _openNests;

    public NetlinkMessageBuilder(int initialCapacity = 1024) => _buffer = new byte[Math.Max(initialCapacity, 64)];

    /// <summary>The messages written so far (only complete ones once <see cref="EndMessage"/> ran).</summary>
    public ReadOnlySpan<byte> Written => _buffer.AsSpan(0, _length);

    /// <summary>Writable view for the socket to stamp sequence numbers and flags.</summary>
    internal Span<byte> WrittenMutable => _buffer.AsSpan(0, _length);

    public int MessageCount { get; private set; }

    public void Reset()
    {
        _length = 0;
        _messageStart = -1;
        _openNests = 0;
        MessageCount = 0;
    }

    /// <summary>Starts a message; NLM_F_REQUEST is always added.</summary>
    public NetlinkMessageBuilder BeginMessage(ushort type, ushort flags)
    {
        if (_messageStart >= 0) throw new InvalidOperationException("the previous message was not ended");
        _messageStart = _length;
        var header = new NlMsgHdr { Type = type, Flags = (ushort)(flags | Nl.NLM_F_REQUEST) };
        MemoryMarshal.Write(Reserve(Nl.HeaderSize), in header);
        return this;
    }

    /// <summary>Completes the current message by writing its length.</summary>
    public NetlinkMessageBuilder EndMessage()
    {
        if (_messageStart < 0) throw new InvalidOperationException("no message was begun");
        if (_openNests != 0) throw new InvalidOperationException("a nested attribute was not ended");
        MemoryMarshal.Write(_buffer.AsSpan(_messageStart), (uint)(_length - _messageStart));
        _messageStart = -1;
        MessageCount++;
        return this;
    }

    /// <summary>Writes the message's fixed header (ifinfomsg, rtmsg, nfgenmsg, ...), padded to 4 bytes.</summary>
    public NetlinkMessageBuilder Struct<T>(in T value) where T : unmanaged
    {
        MemoryMarshal.Write(Reserve(Unsafe.SizeOf<T>()), in value);
        return this;
    }

    /// <summary>Writes raw bytes padded to 4 (a fixed header given as bytes).</summary>
    public NetlinkMessageBuilder Bytes(ReadOnlySpan<byte> payload)
    {
        payload.CopyTo(Reserve(payload.Length));
        return this;
    }

    public NetlinkMessageBuilder Attribute(ushort type, ReadOnlySpan<byte> payload)
    {
        var span = Reserve(Nl.AttributeHeaderSize + payload.Length);
        WriteAttributeHeader(span, type, Nl.AttributeHeaderSize + payload.Length);
        payload.CopyTo(span[Nl.AttributeHeaderSize..]);
        return this;
    }

    /// <summary>An attribute without payload (a flag).</summary>
    public NetlinkMessageBuilder Flag(ushort type) => Attribute(type, []);

    public NetlinkMessageBuilder U8(ushort type, byte value) => Scalar(type, value);

    public NetlinkMessageBuilder U16(ushort type, ushort value) => Scalar(type, value);

    public NetlinkMessageBuilder U32(ushort type, uint value) => Scalar(type, value);

    public NetlinkMessageBuilder S32(ushort type, int value) => Scalar(type, value);

    public NetlinkMessageBuilder U64(ushort type, ulong value) => Scalar(type, value);

    // Network order is host order reversed on the little-endian machines .NET runs Linux on; checked anyway.
    public NetlinkMessageBuilder U16BigEndian(ushort type, ushort value) =>
        Scalar(type, BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(value) : value);

    public NetlinkMessageBuilder U32BigEndian(ushort type, uint value) =>
        Scalar(type, BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(value) : value);

    public NetlinkMessageBuilder U64BigEndian(ushort type, ulong value) =>
        Scalar(type, BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(value) : value);

    /// <summary>An attribute holding one value in host byte order.</summary>
    private NetlinkMessageBuilder Scalar<T>(ushort type, T value) where T : unmanaged
    {
        int size = Unsafe.SizeOf<T>();
        var span = Reserve(Nl.AttributeHeaderSize + size);
        WriteAttributeHeader(span, type, Nl.AttributeHeaderSize + size);
        MemoryMarshal.Write(span[Nl.AttributeHeaderSize..], in value);
        return this;
    }

    /// <summary>A NUL-terminated UTF-8 string (NLA_STRING / NLA_NUL_STRING).</summary>
    public NetlinkMessageBuilder String(ushort type, string value)
    {
        int length = Encoding.UTF8.GetByteCount(value);
        var span = Reserve(Nl.AttributeHeaderSize + length + 1);
        WriteAttributeHeader(span, type, Nl.AttributeHeaderSize + length + 1);
        Encoding.UTF8.GetBytes(value, span[Nl.AttributeHeaderSize..]);
        span[Nl.AttributeHeaderSize + length] = 0;
        return this;
    }

    /// <summary>A string without terminator (NLA_STRING), as iproute2 writes IFLA_INFO_KIND (addattr_l with strlen).</summary>
    public NetlinkMessageBuilder Text(ushort type, string value)
    {
        int length = Encoding.UTF8.GetByteCount(value);
        var span = Reserve(Nl.AttributeHeaderSize + length);
        WriteAttributeHeader(span, type, Nl.AttributeHeaderSize + length);
        Encoding.UTF8.GetBytes(value, span[Nl.AttributeHeaderSize..]);
        return this;
    }

    /// <summary>An IPv4 (4 bytes) or IPv6 (16 bytes) address in network order.</summary>
    public NetlinkMessageBuilder Address(ushort type, IPAddress address)
    {
        Span<byte> b = stackalloc byte[16];
        address.TryWriteBytes(b, out int written);
        return Attribute(type, b[..written]);
    }

    /// <summary>Opens a nested attribute; close it with <see cref="EndNested"/> passing the returned token.
    /// <paramref name="markNested"/> sets NLA_F_NESTED, which libmnl (and so nft) always sets;
    /// rtnetlink accepts either.</summary>
    public int BeginNested(ushort type, bool markNested = false)
    {
        int start = _length;
        WriteAttributeHeader(Reserve(Nl.AttributeHeaderSize), markNested ? (ushort)(type | Nl.NLA_F_NESTED) : type, 0);
        _openNests++;
        return start;
    }

    public NetlinkMessageBuilder EndNested(int token)
    {
        if (_openNests == 0) throw new InvalidOperationException("no nested attribute is open");
        MemoryMarshal.Write(_buffer.AsSpan(token), checked((ushort)(_length - token)));
        _openNests--;
        return this;
    }

    /// <summary>Closes a nested attribute, or removes it when nothing was written inside.</summary>
    public NetlinkMessageBuilder EndNestedOrDrop(int token)
    {
        EndNestedOrDropped(token);
        return this;
    }

    /// <summary>Closes a nested attribute and returns true, or removes it and returns false when it is empty.</summary>
    public bool EndNestedOrDropped(int token)
    {
        if (_length - token > Nl.AttributeHeaderSize)
        {
            EndNested(token);
            return true;
        }
        DropNested(token);
        return false;
    }

    /// <summary>Removes an open nested attribute and everything written inside it.</summary>
    public NetlinkMessageBuilder DropNested(int token)
    {
        if (_openNests == 0) throw new InvalidOperationException("no nested attribute is open");
        _buffer.AsSpan(token, _length - token).Clear();
        _length = token;
        _openNests--;
        return this;
    }

    private static void WriteAttributeHeader(Span<byte> span, ushort type, int length)
    {
        MemoryMarshal.Write(span, checked((ushort)length));
        MemoryMarshal.Write(span[2..], type);
    }

    /// <summary>Reserves <paramref name="size"/> bytes plus padding to 4, zero-filled, and returns the unpadded span.</summary>
    private Span<byte> Reserve(int size)
    {
        if (_messageStart < 0) throw new InvalidOperationException("BeginMessage first");
        int padded = Nl.Align(size);
        if (_length + padded > _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + padded));
        }
        var span = _buffer.AsSpan(_length, padded);
        span.Clear();
        _length += padded;
        return span[..size];
    }
}
