using System.Net;
using System.Net.Sockets;
using System.Text;
using VNetCompose.Kernel;

namespace VNetCompose.Netlink.Nftables;

/// <summary>
/// Turns a <see cref="NatRuleState"/> into the expressions nft 1.0 generates for the same rule, so a
/// rule written by hand with nft in the same words decodes to the same state:
/// <code>
/// [meta nfproto == ipv4|ipv6]   before address matches: an inet chain sees both families
/// [ip|ip6 saddr/daddr prefix]   payload load (byte-aligned prefixes load only their bytes,
///                               others load the address and mask it with bitwise), cmp eq
/// [iifname/oifname ==|!= NAME]  meta load, cmp over 16 NUL-padded bytes (IFNAMSIZ)
/// [meta l4proto P] [th dport N] meta load + cmp; payload load 2 bytes at transport + 2, cmp
/// masq | immediate reg 1 ADDR [immediate reg 2 PORT] nat snat|dnat FAMILY addr reg 1 [proto reg 2]
/// </code>
/// </summary>
internal static class NatRuleCompiler
{
    public const byte Tcp = 6, Udp = 17, Dccp = 33, Sctp = 132, UdpLite = 136;

    /// <summary>Protocols whose header starts with 16-bit source and destination ports (nft's "th dport").</summary>
    public static bool HasPorts(byte protocol) => protocol is Tcp or Udp or Dccp or Sctp or UdpLite;

    /// <summary>Why the rule cannot be written, or null when it can.</summary>
    public static string? Validate(NatRuleState rule)
    {
        if (rule.Unrecognized is not null) return $"the rule is unrecognized ({rule.Unrecognized}) and cannot be written";
        var families = new[] { rule.Source?.BaseAddress, rule.Destination?.BaseAddress, rule.ToAddress }
            .OfType<IPAddress>().Select(a => a.AddressFamily).Distinct().ToList();
        if (families.Count > 1) return "it mixes IPv4 and IPv6 addresses";
        if (families.Any(f => f is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6)))
        {
            return "its addresses are neither IPv4 nor IPv6";
        }
        switch (rule.Verdict)
        {
            case NatVerdictKind.Masquerade when rule.ToAddress is not null || rule.ToPort is not null:
                return "masquerade takes no 'to' address or port";
            case NatVerdictKind.Snat or NatVerdictKind.Dnat when rule.ToAddress is null:
                return $"{rule.Verdict.ToString().ToLowerInvariant()} needs a 'to' address";
        }
        if (rule.DestinationPort is not null && (rule.L4Protocol is not { } p || !HasPorts(p)))
        {
            return "a destination port needs the protocol tcp, udp, sctp, dccp or udplite";
        }
        if (rule.ToPort is not null && (rule.L4Protocol is not { } q || !HasPorts(q)))
        {
            return "a 'to' port needs the protocol tcp, udp, sctp, dccp or udplite";
        }
        if (rule.DestinationPort == 0 || rule.ToPort == 0) return "ports are 1-65535";
        return InterfaceProblem(rule.InInterface) ?? InterfaceProblem(rule.OutInterface);
    }

    public static IReadOnlyList<NftExpression> Compile(NatRuleState rule)
    {
        if (Validate(rule) is { } problem) throw new ArgumentException(problem, nameof(rule));
        var program = new List<NftExpression>();
        if (rule.Source is not null || rule.Destination is not null)
        {
            var family = (rule.Source ?? rule.Destination)!.Value.BaseAddress.AddressFamily;
            program.Add(new MetaLoad(NftValue.MetaNfProto, NftRegister.Reg1));
            program.Add(new Compare(NftRegister.Reg1, NftValue.CmpEq, new NftBytes([NfProtoOf(family)])));
        }
        if (rule.Source is { } src) AddPrefixMatch(program, src, AddressField.Source);
        if (rule.Destination is { } dst) AddPrefixMatch(program, dst, AddressField.Destination);
        if (rule.InInterface is { } iif) AddInterfaceMatch(program, NftValue.MetaIifName, iif);
        if (rule.OutInterface is { } oif) AddInterfaceMatch(program, NftValue.MetaOifName, oif);
        if (rule.L4Protocol is { } protocol)
        {
            program.Add(new MetaLoad(NftValue.MetaL4Proto, NftRegister.Reg1));
            program.Add(new Compare(NftRegister.Reg1, NftValue.CmpEq, new NftBytes([protocol])));
        }
        if (rule.DestinationPort is { } port)
        {
            program.Add(new PayloadLoad(NftValue.PayloadTransportHeader, 2, 2, NftRegister.Reg1));
            program.Add(new Compare(NftRegister.Reg1, NftValue.CmpEq, Port(port)));
        }
        AddVerdict(program, rule);
        return program;
    }

    public static byte NfProtoOf(AddressFamily family) => family == AddressFamily.InterNetwork ? NfProto.Ipv4 : NfProto.Ipv6;

    /// <summary>The interface name as nft compares it: IFNAMSIZ bytes, NUL-padded.</summary>
    public static NftBytes InterfaceName(string name)
    {
        var bytes = new byte[NftValue.InterfaceNameSize];
        Encoding.UTF8.GetBytes(name, bytes);
        return new NftBytes(bytes);
    }

    private static void AddVerdict(List<NftExpression> program, NatRuleState rule)
    {
        if (rule.Verdict == NatVerdictKind.Masquerade)
        {
            program.Add(new MasqueradeStatement());
            return;
        }
        var to = rule.ToAddress!;
        program.Add(new Immediate(NftRegister.Reg1, new NftBytes(to.GetAddressBytes())));
        uint flags = NftValue.NatRangeMapIps;
        if (rule.ToPort is { } toPort)
        {
            program.Add(new Immediate(NftRegister.Reg2, Port(toPort)));
            flags |= NftValue.NatRangeProtoSpecified;
        }
        program.Add(new NatStatement(
            rule.Verdict == NatVerdictKind.Snat ? NftValue.NatSnat : NftValue.NatDnat,
            NfProtoOf(to.AddressFamily),
            NftRegister.Reg1,
            rule.ToPort is null ? null : NftRegister.Reg2,
            flags));
    }

    private static void AddPrefixMatch(List<NftExpression> program, IPNetwork network, AddressField field)
    {
        byte[] address = network.BaseAddress.GetAddressBytes();
        int prefix = network.PrefixLength;
        uint offset = AddressFields.Offset(network.BaseAddress.AddressFamily, field);
        if (prefix > 0 && prefix % 8 == 0)
        {
            // nft loads only the prefix's bytes: 172.17.0.0/16 is "payload load 2b", no bitwise.
            program.Add(new PayloadLoad(NftValue.PayloadNetworkHeader, offset, (uint)(prefix / 8), NftRegister.Reg1));
            program.Add(new Compare(NftRegister.Reg1, NftValue.CmpEq, new NftBytes(address.AsSpan(0, prefix / 8))));
            return;
        }
        byte[] mask = PrefixMask(address.Length, prefix);
        for (int i = 0; i < address.Length; i++) address[i] &= mask[i];
        program.Add(new PayloadLoad(NftValue.PayloadNetworkHeader, offset, (uint)address.Length, NftRegister.Reg1));
        program.Add(new BitwiseMaskXor(NftRegister.Reg1, NftRegister.Reg1, new NftBytes(mask), new NftBytes(new byte[address.Length])));
        program.Add(new Compare(NftRegister.Reg1, NftValue.CmpEq, new NftBytes(address)));
    }

    private static void AddInterfaceMatch(List<NftExpression> program, uint key, NatInterface match)
    {
        program.Add(new MetaLoad(key, NftRegister.Reg1));
        program.Add(new Compare(NftRegister.Reg1, match.Negated ? NftValue.CmpNeq : NftValue.CmpEq, InterfaceName(match.Name)));
    }

    public static byte[] PrefixMask(int length, int prefix)
    {
        var mask = new byte[length];
        for (int bit = 0; bit < prefix; bit++) mask[bit / 8] |= (byte)(0x80 >> (bit % 8));
        return mask;
    }

    private static NftBytes Port(ushort port) => new([(byte)(port >> 8), (byte)port]);

    private static string? InterfaceProblem(NatInterface? match)
    {
        if (match is null) return null;
        int bytes = Encoding.UTF8.GetByteCount(match.Name);
        if (bytes is 0 or >= NftValue.InterfaceNameSize) return $"interface name '{match.Name}' is not 1-15 bytes long";
        return match.Name.Contains('\0') ? $"interface name '{match.Name}' contains a NUL character" : null;
    }
}

internal enum AddressField { Source, Destination }

/// <summary>Where the addresses sit in the network header (RFC 791, RFC 8200).</summary>
internal static class AddressFields
{
    public static uint Offset(AddressFamily family, AddressField field) => (family, field) switch
    {
        (AddressFamily.InterNetwork, AddressField.Source) => 12,
        (AddressFamily.InterNetwork, AddressField.Destination) => 16,
        (AddressFamily.InterNetworkV6, AddressField.Source) => 8,
        (AddressFamily.InterNetworkV6, AddressField.Destination) => 24,
        _ => throw new ArgumentOutOfRangeException(nameof(family), family, "not IPv4 or IPv6"),
    };

    /// <summary>The field at a network-header offset for a family, null for any other offset.</summary>
    public static AddressField? At(AddressFamily family, uint offset) =>
        offset == Offset(family, AddressField.Source) ? AddressField.Source
        : offset == Offset(family, AddressField.Destination) ? AddressField.Destination
        : null;
}
