using System.Buffers.Binary;
using VNetCompose.Netlink.Wire;

namespace VNetCompose.Netlink.Nftables;

/// <summary>
/// Writes <see cref="NftExpression"/>s as NFTA_LIST_ELEM entries of NFTA_RULE_EXPRESSIONS and reads them
/// back from rule dumps. Every nested attribute carries NLA_F_NESTED and every integer is big-endian,
/// as libnftnl sends them (net/netfilter/nf_tables_api.c, nft_*.c parse with nla_get_be32).
/// </summary>
internal static class NftExpressionCodec
{
    public static void Write(NetlinkMessageBuilder builder, NftExpression expression)
    {
        int element = builder.BeginNested(NftaExpr.ListElement, markNested: true);
        builder.String(NftaExpr.Name, NameOf(expression));
        int data = builder.BeginNested(NftaExpr.Data, markNested: true);
        switch (expression)
        {
            case MetaLoad meta:
                builder.U32BigEndian(NftaAttr.MetaKey, meta.Key)
                    .U32BigEndian(NftaAttr.MetaDreg, meta.DestinationRegister);
                break;
            case PayloadLoad payload:
                builder.U32BigEndian(NftaAttr.PayloadDreg, payload.DestinationRegister)
                    .U32BigEndian(NftaAttr.PayloadBase, payload.Base)
                    .U32BigEndian(NftaAttr.PayloadOffset, payload.Offset)
                    .U32BigEndian(NftaAttr.PayloadLength, payload.Length);
                break;
            case BitwiseMaskXor bitwise:
                builder.U32BigEndian(NftaAttr.BitwiseSreg, bitwise.SourceRegister)
                    .U32BigEndian(NftaAttr.BitwiseDreg, bitwise.DestinationRegister)
                    .U32BigEndian(NftaAttr.BitwiseLength, (uint)bitwise.Mask.Length);
                WriteValue(builder, NftaAttr.BitwiseMask, bitwise.Mask);
                WriteValue(builder, NftaAttr.BitwiseXor, bitwise.Xor);
                break;
            case Compare compare:
                builder.U32BigEndian(NftaAttr.CmpSreg, compare.SourceRegister)
                    .U32BigEndian(NftaAttr.CmpOp, compare.Operation);
                WriteValue(builder, NftaAttr.CmpData, compare.Data);
                break;
            case Immediate immediate:
                builder.U32BigEndian(NftaAttr.ImmediateDreg, immediate.DestinationRegister);
                WriteValue(builder, NftaAttr.ImmediateData, immediate.Data);
                break;
            case NatStatement nat:
                builder.U32BigEndian(NftaAttr.NatType, nat.Type)
                    .U32BigEndian(NftaAttr.NatFamily, nat.Family);
                if (nat.AddressRegister is { } address) builder.U32BigEndian(NftaAttr.NatRegAddrMin, address);
                if (nat.PortRegister is { } port) builder.U32BigEndian(NftaAttr.NatRegProtoMin, port);
                if (nat.Flags != 0) builder.U32BigEndian(NftaAttr.NatFlags, nat.Flags);
                break;
            case MasqueradeStatement:
                break;
            default:
                throw new ArgumentException($"cannot write the expression '{expression.Describe()}'", nameof(expression));
        }
        builder.EndNested(data).EndNested(element);
    }

    /// <summary>Decodes one NFTA_LIST_ELEM of a dumped rule.</summary>
    public static NftExpression Read(NetlinkAttribute element)
    {
        string? name = null;
        Dictionary<ushort, byte[]> data = [];
        foreach (var attribute in element.Nested())
        {
            if (attribute.Type == NftaExpr.Name) name = attribute.String();
            else if (attribute.Type == NftaExpr.Data) data = Collect(attribute.Payload);
        }
        return name switch
        {
            "meta" => ReadMeta(data),
            "payload" => ReadPayload(data),
            "bitwise" => ReadBitwise(data),
            "cmp" => ReadCompare(data),
            "immediate" => ReadImmediate(data),
            "nat" => ReadNat(data),
            "masq" => data.Count == 0 ? new MasqueradeStatement() : new OtherExpression("masq with flags or a port range"),
            null => new OtherExpression("an expression without a name"),
            _ => new OtherExpression(name),
        };
    }

    private static string NameOf(NftExpression expression) => expression switch
    {
        MetaLoad => "meta",
        PayloadLoad => "payload",
        BitwiseMaskXor => "bitwise",
        Compare => "cmp",
        Immediate => "immediate",
        NatStatement => "nat",
        MasqueradeStatement => "masq",
        _ => throw new ArgumentException($"cannot write the expression '{expression.Describe()}'", nameof(expression)),
    };

    private static NftExpression ReadMeta(Dictionary<ushort, byte[]> a) =>
        Exactly(a, [NftaAttr.MetaKey, NftaAttr.MetaDreg])
            ? new MetaLoad(U32(a[NftaAttr.MetaKey]), U32(a[NftaAttr.MetaDreg]))
            : new OtherExpression("meta " + (a.ContainsKey(NftaAttr.MetaSreg) ? "set" : "with unexpected attributes"));

    private static NftExpression ReadPayload(Dictionary<ushort, byte[]> a) =>
        Exactly(a, [NftaAttr.PayloadDreg, NftaAttr.PayloadBase, NftaAttr.PayloadOffset, NftaAttr.PayloadLength])
            ? new PayloadLoad(U32(a[NftaAttr.PayloadBase]), U32(a[NftaAttr.PayloadOffset]), U32(a[NftaAttr.PayloadLength]),
                U32(a[NftaAttr.PayloadDreg]))
            : new OtherExpression("payload " + (a.ContainsKey(NftaAttr.PayloadSreg) ? "write" : "with unexpected attributes"));

    private static NftExpression ReadBitwise(Dictionary<ushort, byte[]> a)
    {
        // Kernels since 5.6 dump NFTA_BITWISE_OP; older ones only know mask-and-xor.
        bool maskXor = !a.TryGetValue(NftaAttr.BitwiseOp, out var op) || U32(op) == NftValue.BitwiseMaskXor;
        if (!maskXor || !Exactly(a, [NftaAttr.BitwiseSreg, NftaAttr.BitwiseDreg, NftaAttr.BitwiseLength, NftaAttr.BitwiseMask,
                NftaAttr.BitwiseXor], NftaAttr.BitwiseOp))
        {
            return new OtherExpression("bitwise shift or boolean operation");
        }
        var mask = Value(a[NftaAttr.BitwiseMask]);
        var xor = Value(a[NftaAttr.BitwiseXor]);
        if (mask is null || xor is null) return new OtherExpression("bitwise without value data");
        return new BitwiseMaskXor(U32(a[NftaAttr.BitwiseSreg]), U32(a[NftaAttr.BitwiseDreg]), mask.Value, xor.Value);
    }

    private static NftExpression ReadCompare(Dictionary<ushort, byte[]> a)
    {
        if (!Exactly(a, [NftaAttr.CmpSreg, NftaAttr.CmpOp, NftaAttr.CmpData])) return new OtherExpression("cmp with unexpected attributes");
        var data = Value(a[NftaAttr.CmpData]);
        return data is null
            ? new OtherExpression("cmp without value data")
            : new Compare(U32(a[NftaAttr.CmpSreg]), U32(a[NftaAttr.CmpOp]), data.Value);
    }

    private static NftExpression ReadImmediate(Dictionary<ushort, byte[]> a)
    {
        if (!Exactly(a, [NftaAttr.ImmediateDreg, NftaAttr.ImmediateData])) return new OtherExpression("immediate with unexpected attributes");
        var data = Value(a[NftaAttr.ImmediateData]);
        return data is null
            ? new OtherExpression(Verdict(a[NftaAttr.ImmediateData]))
            : new Immediate(U32(a[NftaAttr.ImmediateDreg]), data.Value);
    }

    /// <summary>The NFTA_DATA_VERDICT of an nft_data nest as nft prints it: <c>verdict accept</c>, <c>verdict jump CHAIN</c>.</summary>
    private static string Verdict(byte[] nest)
    {
        foreach (var data in new NetlinkAttributeEnumerator(nest))
        {
            if (data.Type != NftaExpr.DataVerdict) continue;
            int? code = null;
            string? chain = null;
            foreach (var attribute in data.Nested())
            {
                if (attribute.Type == NftVerdict.Code) code = unchecked((int)attribute.U32BigEndian());
                else if (attribute.Type == NftVerdict.Chain) chain = attribute.String();
            }
            if (code is { } c) return $"verdict {NftVerdict.Name(c)}" + (chain is null ? "" : $" {chain}");
        }
        return "a verdict";
    }

    private static NftExpression ReadNat(Dictionary<ushort, byte[]> a)
    {
        if (!a.ContainsKey(NftaAttr.NatType) || !a.ContainsKey(NftaAttr.NatFamily)) return new OtherExpression("nat without type or family");
        uint? addressMin = Optional(a, NftaAttr.NatRegAddrMin), addressMax = Optional(a, NftaAttr.NatRegAddrMax);
        uint? portMin = Optional(a, NftaAttr.NatRegProtoMin), portMax = Optional(a, NftaAttr.NatRegProtoMax);
        // A range ("to 10.0.0.1-10.0.0.9", "to :80-90") loads its maximum into another register.
        if ((addressMax is not null && addressMax != addressMin) || (portMax is not null && portMax != portMin))
        {
            return new OtherExpression("nat to an address or port range");
        }
        return new NatStatement(U32(a[NftaAttr.NatType]), checked((byte)U32(a[NftaAttr.NatFamily])), addressMin, portMin,
            Optional(a, NftaAttr.NatFlags) ?? 0);
    }

    private static void WriteValue(NetlinkMessageBuilder builder, ushort type, NftBytes value)
    {
        int nest = builder.BeginNested(type, markNested: true);
        builder.Attribute(NftaExpr.DataValue, value.Span).EndNested(nest);
    }

    /// <summary>The NFTA_DATA_VALUE inside an nft_data nest; null for a verdict.</summary>
    private static NftBytes? Value(byte[] nest)
    {
        foreach (var attribute in new NetlinkAttributeEnumerator(nest))
        {
            if (attribute.Type == NftaExpr.DataValue) return new NftBytes(attribute.Payload);
        }
        return null;
    }

    private static Dictionary<ushort, byte[]> Collect(ReadOnlySpan<byte> nest)
    {
        var attributes = new Dictionary<ushort, byte[]>();
        foreach (var attribute in new NetlinkAttributeEnumerator(nest)) attributes[attribute.Type] = attribute.Payload.ToArray();
        return attributes;
    }

    /// <summary>True when every <paramref name="required"/> type is present and nothing else but
    /// <paramref name="optional"/> ones: an attribute we do not know changes the expression's meaning.</summary>
    private static bool Exactly(Dictionary<ushort, byte[]> attributes, ushort[] required, params ushort[] optional) =>
        required.All(attributes.ContainsKey) && attributes.Keys.All(k => required.Contains(k) || optional.Contains(k));

    private static uint? Optional(Dictionary<ushort, byte[]> attributes, ushort type) =>
        attributes.TryGetValue(type, out var value) ? U32(value) : null;

    private static uint U32(byte[] value) =>
        value.Length == 4 ? BinaryPrimitives.ReadUInt32BigEndian(value) : throw new InvalidDataException($"nf_tables attribute of {value.Length} bytes, expected 4");
}
