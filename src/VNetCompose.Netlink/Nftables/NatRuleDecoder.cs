using System.Net;
using System.Net.Sockets;
using System.Numerics;
using System.Text;
using VNetCompose.Kernel;

namespace VNetCompose.Netlink.Nftables;

/// <summary>
/// Reads a dumped rule back into a <see cref="NatRuleState"/>: the inverse of <see cref="NatRuleCompiler"/>,
/// also accepting what nft generates for the same words (matches in any order, a prefix loaded whole and
/// masked). Anything outside the vocabulary makes the rule <see cref="NatRuleState.Unrecognized"/>, so a
/// rule read back as recognized always means exactly what its fields say.
/// </summary>
internal static class NatRuleDecoder
{
    /// <summary>The decoded rule, or null with <paramref name="problem"/> saying why it is not one.</summary>
    /// <param name="chain">The base chain the rule is in.</param>
    /// <param name="program">The rule's expressions as dumped.</param>
    /// <param name="problem">Why the rule is not one of vnet's vocabulary; null when it is.</param>
    /// <param name="tableFamily">The family of a table that holds one family only (ip, ip6): its rules match addresses
    /// without <c>meta nfproto</c>. Null for an inet table.</param>
    public static NatRuleState? TryDecode(NatChain chain, IReadOnlyList<NftExpression> program, out string? problem,
        AddressFamily? tableFamily = null)
    {
        var decoding = new Decoding(chain, tableFamily);
        problem = decoding.Run(program);
        if (problem is not null) return null;
        var rule = decoding.Result();
        problem = NatRuleCompiler.Validate(rule);
        return problem is null ? rule : null;
    }

    private sealed class Decoding(NatChain chain, AddressFamily? tableFamily)
    {
        private readonly Dictionary<uint, NftBytes> _registers = [];
        private readonly bool _familyFromTable = tableFamily is not null;
        private AddressFamily? _family = tableFamily;
        private IPNetwork? _source, _destination;
        private NatInterface? _in, _out;
        private byte? _protocol;
        private ushort? _port;
        private NatVerdictKind? _verdict;
        private IPAddress? _to;
        private ushort? _toPort;

        public NatRuleState Result() =>
            new(chain, _verdict!.Value, _source, _destination, _in, _out, _protocol, _port, _to, _toPort);

        /// <summary>Consumes the program; returns the first problem, or null.</summary>
        public string? Run(IReadOnlyList<NftExpression> program)
        {
            int i = 0;
            while (i < program.Count)
            {
                if (_verdict is not null) return $"'{program[i].Describe()}' after the NAT statement";
                var next = i + 1 < program.Count ? program[i + 1] : null;
                string? problem;
                switch (program[i])
                {
                    case MetaLoad meta when next is Compare compare && compare.SourceRegister == meta.DestinationRegister:
                        problem = Meta(meta.Key, compare);
                        i += 2;
                        break;
                    case PayloadLoad { Base: NftValue.PayloadNetworkHeader } load:
                        var bitwise = next as BitwiseMaskXor;
                        if (bitwise is not null && (bitwise.SourceRegister != load.DestinationRegister
                                || bitwise.DestinationRegister != load.DestinationRegister))
                        {
                            return $"'{bitwise.Describe()}' on another register";
                        }
                        int compareAt = i + (bitwise is null ? 1 : 2);
                        if (compareAt >= program.Count || program[compareAt] is not Compare addressCompare
                            || addressCompare.SourceRegister != load.DestinationRegister)
                        {
                            return $"'{load.Describe()}' not followed by a comparison";
                        }
                        problem = Address(load, bitwise, addressCompare);
                        i = compareAt + 1;
                        break;
                    case PayloadLoad { Base: NftValue.PayloadTransportHeader } load
                        when next is Compare compare && compare.SourceRegister == load.DestinationRegister:
                        problem = Port(load, compare);
                        i += 2;
                        break;
                    case Immediate immediate:
                        _registers[immediate.DestinationRegister] = immediate.Data;
                        problem = null;
                        i++;
                        break;
                    case MasqueradeStatement:
                        _verdict = NatVerdictKind.Masquerade;
                        problem = null;
                        i++;
                        break;
                    case NatStatement nat:
                        problem = Nat(nat);
                        i++;
                        break;
                    case OtherExpression other:
                        return $"'{other.Text}' is outside vnet's NAT vocabulary";
                    default:
                        return $"'{program[i].Describe()}' where a match or NAT statement was expected";
                }
                if (problem is not null) return problem;
            }
            if (_verdict is null) return "no masquerade, snat or dnat statement";
            if (_registers.Count > 0) return "a value loaded into a register that no statement uses";
            if (_family is not null && !_familyFromTable && _source is null && _destination is null) return "meta nfproto without an address match";
            if (_to is not null && _family is not null && _to.AddressFamily != _family) return "the NAT address is of another family than the matches";
            return null;
        }

        private string? Meta(uint key, Compare compare)
        {
            bool equal = compare.Operation == NftValue.CmpEq;
            switch (key)
            {
                case NftValue.MetaNfProto when equal && compare.Data.Length == 1:
                    AddressFamily family = compare.Data.Span[0] switch
                    {
                        NfProto.Ipv4 => AddressFamily.InterNetwork,
                        NfProto.Ipv6 => AddressFamily.InterNetworkV6,
                        _ => AddressFamily.Unknown,
                    };
                    if (family == AddressFamily.Unknown) return $"meta nfproto {compare.Data.Span[0]}";
                    if (_family is not null && _family != family) return "two different meta nfproto matches";
                    _family = family;
                    return null;
                case NftValue.MetaL4Proto when equal && compare.Data.Length == 1:
                    if (_protocol is not null) return "two meta l4proto matches";
                    _protocol = compare.Data.Span[0];
                    return null;
                case NftValue.MetaIifName or NftValue.MetaOifName
                    when compare.Operation is NftValue.CmpEq or NftValue.CmpNeq:
                    string? name = InterfaceName(compare.Data);
                    if (name is null) return "an interface name pattern (wildcard) or malformed name";
                    var match = new NatInterface(name, compare.Operation == NftValue.CmpNeq);
                    if (key == NftValue.MetaIifName)
                    {
                        if (_in is not null) return "two iifname matches";
                        _in = match;
                    }
                    else
                    {
                        if (_out is not null) return "two oifname matches";
                        _out = match;
                    }
                    return null;
                default:
                    return $"'{new MetaLoad(key, compare.SourceRegister).Describe()}' compared by '{compare.Describe()}'";
            }
        }

        private string? Address(PayloadLoad load, BitwiseMaskXor? bitwise, Compare compare)
        {
            if (_family is not { } family) return "an address match without meta nfproto (it would read other families' headers)";
            int size = family == AddressFamily.InterNetwork ? 4 : 16;
            var field = AddressFields.At(family, load.Offset);
            if (field is null || load.Length is 0 || load.Length > size) return $"'{load.Describe()}' (not a whole source or destination address)";
            if (compare.Operation != NftValue.CmpEq || compare.Data.Length != load.Length) return $"'{compare.Describe()}' on an address";

            int prefix = (int)load.Length * 8;
            var address = new byte[size];
            compare.Data.Span.CopyTo(address);
            if (bitwise is not null)
            {
                if (bitwise.Mask.Length != load.Length || bitwise.Xor.Span.ContainsAnyExcept((byte)0)) return $"'{bitwise.Describe()}' on an address";
                prefix = PrefixLength(bitwise.Mask.Span);
                if (prefix < 0) return $"'{bitwise.Describe()}' (not a prefix mask)";
                var mask = NatRuleCompiler.PrefixMask((int)load.Length, prefix);
                for (int b = 0; b < mask.Length; b++)
                {
                    if ((address[b] & ~mask[b]) != 0) return $"'{compare.Describe()}' (address bits outside the mask)";
                }
            }
            var network = new IPNetwork(new IPAddress(address), prefix);
            if (field == AddressField.Source)
            {
                if (_source is not null) return "two source address matches";
                _source = network;
            }
            else
            {
                if (_destination is not null) return "two destination address matches";
                _destination = network;
            }
            return null;
        }

        private string? Port(PayloadLoad load, Compare compare)
        {
            if (load.Offset != 2 || load.Length != 2 || compare.Operation != NftValue.CmpEq || compare.Data.Length != 2)
            {
                return $"'{load.Describe()}' compared by '{compare.Describe()}' (not a destination port match)";
            }
            if (_protocol is not { } protocol || !NatRuleCompiler.HasPorts(protocol)) return "a destination port match without a tcp/udp protocol match";
            if (_port is not null) return "two destination port matches";
            _port = (ushort)((compare.Data.Span[0] << 8) | compare.Data.Span[1]);
            return null;
        }

        private string? Nat(NatStatement nat)
        {
            if (nat.Type is not (NftValue.NatSnat or NftValue.NatDnat)) return nat.Describe();
            if (nat.AddressRegister is not { } addressRegister || !_registers.Remove(addressRegister, out var address))
            {
                return $"'{nat.Describe()}' without an address";
            }
            int size = nat.Family switch { NfProto.Ipv4 => 4, NfProto.Ipv6 => 16, _ => 0 };
            if (size == 0 || address.Length != size) return $"'{nat.Describe()}' with a {address.Length}-byte address";
            uint flags = NftValue.NatRangeMapIps;
            if (nat.PortRegister is { } portRegister)
            {
                if (!_registers.Remove(portRegister, out var port) || port.Length != 2) return $"'{nat.Describe()}' without a 2-byte port";
                _toPort = (ushort)((port.Span[0] << 8) | port.Span[1]);
                flags |= NftValue.NatRangeProtoSpecified;
            }
            // Other flags (random, fully-random, persistent, netmap) are outside the vocabulary.
            if (nat.Flags != flags) return $"'{nat.Describe()}' (flags other than the address and port)";
            _to = new IPAddress(address.Span);
            _verdict = nat.Type == NftValue.NatSnat ? NatVerdictKind.Snat : NatVerdictKind.Dnat;
            return null;
        }

        /// <summary>The number of leading one bits when the mask is a prefix mask, else -1.</summary>
        private static int PrefixLength(ReadOnlySpan<byte> mask)
        {
            int ones = 0;
            foreach (byte b in mask) ones += BitOperations.PopCount(b);
            return NatRuleCompiler.PrefixMask(mask.Length, ones).AsSpan().SequenceEqual(mask) ? ones : -1;
        }

        /// <summary>The name in a 16-byte NUL-padded comparison operand; null for a prefix pattern or garbage.</summary>
        private static string? InterfaceName(NftBytes data)
        {
            var bytes = data.Span;
            int nul = bytes.IndexOf((byte)0);
            if (bytes.Length != NftValue.InterfaceNameSize || nul <= 0 || bytes[nul..].ContainsAnyExcept((byte)0)) return null;
            return Encoding.UTF8.GetString(bytes[..nul]);
        }
    }
}
