namespace VNetCompose.Netlink.Nftables;

/// <summary>
/// The nf_tables expressions a NAT rule is made of, one record per kernel expression type, holding
/// exactly the attributes the kernel dumps back. Anything else the kernel reports becomes an
/// <see cref="OtherExpression"/>, which no NAT rule contains. Register numbers are as on the wire
/// (NFT_REG_1 = 1, NFT_REG32_00 = 8, ...).
/// </summary>
internal abstract record NftExpression
{
    /// <summary>The expression as <c>nft --debug=netlink</c> prints it, for drift descriptions.</summary>
    public abstract string Describe();
}

/// <summary><c>meta load KEY => reg DREG</c> (expression "meta").</summary>
internal sealed record MetaLoad(uint Key, uint DestinationRegister) : NftExpression
{
    public override string Describe() => $"meta load {KeyName(Key)} => reg {DestinationRegister}";

    private static string KeyName(uint key) => key switch
    {
        NftValue.MetaIifName => "iifname",
        NftValue.MetaOifName => "oifname",
        NftValue.MetaNfProto => "nfproto",
        NftValue.MetaL4Proto => "l4proto",
        _ => $"key {key}",
    };
}

/// <summary><c>payload load LENb @ BASE header + OFFSET => reg DREG</c> (expression "payload").</summary>
internal sealed record PayloadLoad(uint Base, uint Offset, uint Length, uint DestinationRegister) : NftExpression
{
    public override string Describe()
    {
        string header = Base switch
        {
            NftValue.PayloadNetworkHeader => "network",
            NftValue.PayloadTransportHeader => "transport",
            _ => $"base {Base}",
        };
        return $"payload load {Length}b @ {header} header + {Offset} => reg {DestinationRegister}";
    }
}

/// <summary><c>bitwise reg DREG = (reg SREG &amp; MASK) ^ XOR</c> (expression "bitwise", NFT_BITWISE_MASK_XOR).</summary>
internal sealed record BitwiseMaskXor(uint SourceRegister, uint DestinationRegister, NftBytes Mask, NftBytes Xor) : NftExpression
{
    public override string Describe() =>
        $"bitwise reg {DestinationRegister} = ( reg {SourceRegister} & 0x{Mask} ) ^ 0x{Xor}";
}

/// <summary><c>cmp OP reg SREG DATA</c> (expression "cmp").</summary>
internal sealed record Compare(uint SourceRegister, uint Operation, NftBytes Data) : NftExpression
{
    public override string Describe() =>
        $"cmp {(Operation == NftValue.CmpEq ? "eq" : Operation == NftValue.CmpNeq ? "neq" : $"op {Operation}")} reg {SourceRegister} 0x{Data}";
}

/// <summary><c>immediate reg DREG DATA</c> (expression "immediate" loading a value, not a verdict).</summary>
internal sealed record Immediate(uint DestinationRegister, NftBytes Data) : NftExpression
{
    public override string Describe() => $"immediate reg {DestinationRegister} 0x{Data}";
}

/// <summary>
/// <c>nat snat|dnat FAMILY addr_min reg A proto_min reg P flags F</c> (expression "nat"). The kernel
/// dumps addr_max/proto_max equal to the minimum when only the minimum was given; a real range
/// (max different from min) is not in the NAT vocabulary and decodes as <see cref="OtherExpression"/>.
/// </summary>
internal sealed record NatStatement(uint Type, byte Family, uint? AddressRegister, uint? PortRegister, uint Flags) : NftExpression
{
    public override string Describe() =>
        $"nat {(Type == NftValue.NatSnat ? "snat" : Type == NftValue.NatDnat ? "dnat" : $"type {Type}")} {NfProto.Name(Family)}"
        + (AddressRegister is { } a ? $" addr_min reg {a}" : "")
        + (PortRegister is { } p ? $" proto_min reg {p}" : "")
        + (Flags != 0 ? $" flags 0x{Flags:x}" : "");
}

/// <summary><c>masq</c> (expression "masq") without flags or port range.</summary>
internal sealed record MasqueradeStatement : NftExpression
{
    public override string Describe() => "masq";
}

/// <summary>An expression outside the NAT vocabulary (counter, log, lookup, a masq with flags, ...).</summary>
internal sealed record OtherExpression(string Text) : NftExpression
{
    public override string Describe() => Text;
}
