using System.Buffers.Binary;
using System.Net;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using VNetCompose.Netlink.Interop;

namespace VNetCompose.Netlink.Wire;

/// <summary>One received netlink message: a view over the receive buffer, valid only while the
/// callback that received it runs.</summary>
internal readonly ref struct NetlinkMessage
{
    public NetlinkMessage(NlMsgHdr header, ReadOnlySpan<byte> payload)
    {
        Header = header;
        Payload = payload;
    }

    public NlMsgHdr Header { get; }
    public ushort Type => Header.Type;
    public ushort Flags => Header.Flags;
    public uint Sequence => Header.Sequence;

    /// <summary>Everything after the nlmsghdr: fixed struct then attributes.</summary>
    public ReadOnlySpan<byte> Payload { get; }

    /// <summary>Reads the fixed struct at the start of the payload (ifinfomsg, rtmsg, ...).</summary>
    public T ReadStruct<T>() where T : unmanaged
    {
        int size = Unsafe.SizeOf<T>();
        if (Payload.Length < size)
        {
            throw new InvalidDataException($"netlink message type {Type} is {Payload.Length} bytes, shorter than its {typeof(T).Name}");
        }
        return MemoryMarshal.Read<T>(Payload);
    }

    /// <summary>The attributes following a fixed struct of <paramref name="fixedHeaderSize"/> bytes (padded to 4).</summary>
    public NetlinkAttributeEnumerator Attributes(int fixedHeaderSize) =>
        new(Payload.Length >= Nl.Align(fixedHeaderSize) ? Payload[Nl.Align(fixedHeaderSize)..] : []);

    public NetlinkAttributeEnumerator Attributes<T>() where T : unmanaged => Attributes(Unsafe.SizeOf<T>());
}

/// <summary>One attribute (struct nlattr + payload). <see cref="Type"/> has the NESTED/BYTEORDER bits masked off.</summary>
internal readonly ref struct NetlinkAttribute
{
    public NetlinkAttribute(ushort rawType, ReadOnlySpan<byte> payload)
    {
        RawType = rawType;
        Payload = payload;
    }

    public ushort RawType { get; }
    public ushort Type => (ushort)(RawType & Nl.NLA_TYPE_MASK);
    public bool IsNestedFlagSet => (RawType & Nl.NLA_F_NESTED) != 0;
    public ReadOnlySpan<byte> Payload { get; }

    public byte U8() => Payload.Length >= 1 ? Payload[0] : throw Short(1);
    public ushort U16() => Payload.Length >= 2 ? MemoryMarshal.Read<ushort>(Payload) : throw Short(2);
    public uint U32() => Payload.Length >= 4 ? MemoryMarshal.Read<uint>(Payload) : throw Short(4);
    public int S32() => unchecked((int)U32());
    public ulong U64() => Payload.Length >= 8 ? MemoryMarshal.Read<ulong>(Payload) : throw Short(8);
    public ushort U16BigEndian() => Payload.Length >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(Payload) : throw Short(2);
    public uint U32BigEndian() => Payload.Length >= 4 ? BinaryPrimitives.ReadUInt32BigEndian(Payload) : throw Short(4);
    public ulong U64BigEndian() => Payload.Length >= 8 ? BinaryPrimitives.ReadUInt64BigEndian(Payload) : throw Short(8);

    /// <summary>The string up to the first NUL (or the whole payload when there is none).</summary>
    public string String()
    {
        int nul = Payload.IndexOf((byte)0);
        return Encoding.UTF8.GetString(nul >= 0 ? Payload[..nul] : Payload);
    }

    public IPAddress Address() => Payload.Length is 4 or 16
        ? new IPAddress(Payload)
        : throw new InvalidDataException($"netlink attribute {Type} holds {Payload.Length} bytes, not an IPv4 or IPv6 address");

    /// <summary>Hardware address as iproute2 prints it: lower-case hex bytes joined by ':'.</summary>
    public string HardwareAddress()
    {
        var text = new StringBuilder(Payload.Length * 3);
        foreach (byte b in Payload)
        {
            if (text.Length > 0) text.Append(':');
            text.Append(b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
        }
        return text.ToString();
    }

    public NetlinkAttributeEnumerator Nested() => new(Payload);

    private InvalidDataException Short(int needed) =>
        new($"netlink attribute {Type} holds {Payload.Length} bytes, expected {needed}");
}

/// <summary>Enumerates attributes in a span; stops at the end or at a malformed length.</summary>
internal ref struct NetlinkAttributeEnumerator
{
    private ReadOnlySpan<byte> _remaining;

    public NetlinkAttributeEnumerator(ReadOnlySpan<byte> attributes)
    {
        _remaining = attributes;
        Current = default;
    }

    public NetlinkAttribute Current { get; private set; }

    public readonly NetlinkAttributeEnumerator GetEnumerator() => this;

    public bool MoveNext()
    {
        if (_remaining.Length < Nl.AttributeHeaderSize) return false;
        ushort length = MemoryMarshal.Read<ushort>(_remaining);
        ushort type = MemoryMarshal.Read<ushort>(_remaining[2..]);
        if (length < Nl.AttributeHeaderSize || length > _remaining.Length) return false;
        Current = new NetlinkAttribute(type, _remaining[Nl.AttributeHeaderSize..length]);
        _remaining = _remaining[Math.Min(Nl.Align(length), _remaining.Length)..];
        return true;
    }
}

/// <summary>Enumerates the messages of one received datagram (or of a built buffer).</summary>
internal ref struct NetlinkMessageEnumerator
{
    private ReadOnlySpan<byte> _remaining;

    public NetlinkMessageEnumerator(ReadOnlySpan<byte> datagram)
    {
        _remaining = datagram;
        Current = default;
    }

    public NetlinkMessage Current { get; private set; }

    public readonly NetlinkMessageEnumerator GetEnumerator() => this;

    public bool MoveNext()
    {
        if (_remaining.Length < Nl.HeaderSize) return false;
        var header = MemoryMarshal.Read<NlMsgHdr>(_remaining);
        if (header.Length < Nl.HeaderSize || header.Length > _remaining.Length)
        {
            throw new InvalidDataException($"malformed netlink message: length {header.Length} with {_remaining.Length} bytes left");
        }
        Current = new NetlinkMessage(header, _remaining[Nl.HeaderSize..(int)header.Length]);
        _remaining = _remaining[Math.Min(Nl.Align((int)header.Length), _remaining.Length)..];
        return true;
    }
}
