namespace VNetCompose.Netlink.Nftables;

/// <summary>An immutable byte string with value equality: register data of nf_tables expressions
/// (addresses, ports, interface names, masks), so expression records compare by content.</summary>
internal readonly struct NftBytes : IEquatable<NftBytes>
{
    private readonly byte[]? _bytes;

    public NftBytes(ReadOnlySpan<byte> bytes) => _bytes = bytes.ToArray();

    public ReadOnlySpan<byte> Span => _bytes;

    public int Length => _bytes?.Length ?? 0;

    public bool Equals(NftBytes other) => Span.SequenceEqual(other.Span);

    public override bool Equals(object? obj) => obj is NftBytes other && Equals(other);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.AddBytes(Span);
        return hash.ToHashCode();
    }

    public static bool operator ==(NftBytes left, NftBytes right) => left.Equals(right);

    public static bool operator !=(NftBytes left, NftBytes right) => !left.Equals(right);

    /// <summary>Lower-case hex of the bytes in memory order.</summary>
    public override string ToString() => Convert.ToHexStringLower(Span);
}
