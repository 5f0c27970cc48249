using System.Buffers.Binary;
using System.Net;

namespace VNetCompose.Kernel.Links;

/// <summary>
/// Where a kind writes the attributes of its IFLA_INFO_DATA. The netlink driver implements it over its message
/// builder (framing, nesting and padding stay in one place); tests implement it to compare encodings.
/// Integers are in host order unless the method says big-endian.
/// </summary>
public interface IInfoDataWriter
{
    /// <summary>An NLA_U8.</summary>
    void U8(ushort type, byte value);

    /// <summary>An NLA_U16.</summary>
    void U16(ushort type, ushort value);

    /// <summary>An NLA_U32.</summary>
    void U32(ushort type, uint value);

    /// <summary>An NLA_BE16 (a port or an ethertype).</summary>
    void U16BigEndian(ushort type, ushort value);

    /// <summary>An IPv4 (4 bytes) or IPv6 (16 bytes) address in network order.</summary>
    void Address(ushort type, IPAddress address);
}

/// <summary>The attributes of a dumped IFLA_INFO_DATA, by type; getters return null for absent or short ones.</summary>
public sealed class InfoData
{
    private readonly Dictionary<ushort, byte[]> _attributes;

    /// <summary>Wraps attributes already split by type (the driver's reader does the framing).</summary>
    public InfoData(Dictionary<ushort, byte[]> attributes) => _attributes = attributes;

    /// <summary>No attributes (a kind without IFLA_INFO_DATA, or a dump without it).</summary>
    public static InfoData Empty { get; } = new([]);

    /// <summary>Whether the attribute is present.</summary>
    public bool Has(ushort type) => _attributes.ContainsKey(type);

    /// <summary>An NLA_U8.</summary>
    public byte? U8(ushort type) => Get(type, 1) is { } b ? b[0] : null;

    /// <summary>An NLA_U16 (host order).</summary>
    public ushort? U16(ushort type) => Get(type, 2) is { } b ? BitConverter.ToUInt16(b) : null;

    /// <summary>An NLA_U32 (host order).</summary>
    public uint? U32(ushort type) => Get(type, 4) is { } b ? BitConverter.ToUInt32(b) : null;

    /// <summary>An NLA_BE16.</summary>
    public ushort? U16BigEndian(ushort type) => Get(type, 2) is { } b ? BinaryPrimitives.ReadUInt16BigEndian(b) : null;

    /// <summary>An address attribute of <paramref name="length"/> bytes (4 or 16); the unspecified address counts as absent.</summary>
    public IPAddress? Address(ushort type, int length)
    {
        if (Get(type, length) is not { } b) return null;
        var address = new IPAddress(b.AsSpan(0, length));
        return address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) ? null : address;
    }

    private byte[]? Get(ushort type, int size) => _attributes.TryGetValue(type, out var b) && b.Length >= size ? b : null;
}
