using System.Net;
using VNetCompose.Kernel;
using VNetCompose.Netlink.Nftables;
using VNetCompose.Netlink.Wire;
using static VNetCompose.Netlink.Tests.Nftables.SampleRules;

namespace VNetCompose.Netlink.Tests.Nftables;

/// <summary>Rule compilation, expression wire format and decoding, without a kernel.</summary>
public sealed class NatRuleCodecTests
{
    private static NftBytes Bytes(params byte[] bytes) => new(bytes);

    [Fact]
    public void Compile_DockerMasquerade_IsWhatNftGenerates()
    {
        // nft --debug=netlink add rule inet t postrouting ip saddr 172.17.0.0/16 oifname != "docker0" masquerade
        NatRuleCompiler.Compile(DockerMasquerade).Should().Equal(
            new MetaLoad(NftValue.MetaNfProto, 1),
            new Compare(1, NftValue.CmpEq, Bytes(2)),
            new PayloadLoad(NftValue.PayloadNetworkHeader, 12, 2, 1),
            new Compare(1, NftValue.CmpEq, Bytes(172, 17)),
            new MetaLoad(NftValue.MetaOifName, 1),
            new Compare(1, NftValue.CmpNeq, Bytes((byte)'d', (byte)'o', (byte)'c', (byte)'k', (byte)'e', (byte)'r', (byte)'0', 0, 0, 0, 0, 0, 0, 0, 0, 0)),
            new MasqueradeStatement());
    }

    [Fact]
    public void Compile_PortForward_LoadsAddressAndPortIntoRegistersForDnat()
    {
        // nft: iifname "eth0" meta l4proto tcp th dport 8080 dnat ip to 172.17.0.2:80
        NatRuleCompiler.Compile(PortForward).Should().Equal(
            new MetaLoad(NftValue.MetaIifName, 1),
            new Compare(1, NftValue.CmpEq, NatRuleCompiler.InterfaceName("eth0")),
            new MetaLoad(NftValue.MetaL4Proto, 1),
            new Compare(1, NftValue.CmpEq, Bytes(6)),
            new PayloadLoad(NftValue.PayloadTransportHeader, 2, 2, 1),
            new Compare(1, NftValue.CmpEq, Bytes(0x1f, 0x90)),
            new Immediate(1, Bytes(172, 17, 0, 2)),
            new Immediate(2, Bytes(0, 80)),
            new NatStatement(NftValue.NatDnat, NfProto.Ipv4, 1, 2, NftValue.NatRangeMapIps | NftValue.NatRangeProtoSpecified));
    }

    [Fact]
    public void Compile_PrefixNotOnAByteBoundary_LoadsTheWholeAddressAndMasksIt()
    {
        var program = NatRuleCompiler.Compile(OddPrefixMasquerade);

        program.Skip(2).Take(6).Should().Equal(
            new PayloadLoad(NftValue.PayloadNetworkHeader, 12, 4, 1),
            new BitwiseMaskXor(1, 1, Bytes(255, 255, 240, 0), Bytes(0, 0, 0, 0)),
            new Compare(1, NftValue.CmpEq, Bytes(10, 1, 16, 0)),
            new PayloadLoad(NftValue.PayloadNetworkHeader, 16, 4, 1),
            new Compare(1, NftValue.CmpEq, Bytes(192, 0, 2, 7)),
            new MasqueradeStatement());
    }

    [Fact]
    public void Compile_MasqueradeWithoutAddresses_MatchesBothFamilies()
    {
        NatRuleCompiler.Compile(AnyFamilyMasquerade).OfType<MetaLoad>().Should().NotContain(m => m.Key == NftValue.MetaNfProto);
    }

    [Fact]
    public void Decode_OfCompile_IsTheRule_ForEverySample()
    {
        foreach (var rule in All)
        {
            NatRuleDecoder.TryDecode(rule.Chain, NatRuleCompiler.Compile(rule), out var problem).Should().Be(rule, problem);
        }
    }

    [Fact]
    public void Decode_OfCompile_IsTheRule_ForThousandsOfRandomRules()
    {
        var random = new Random(20240605);
        for (int i = 0; i < 5000; i++)
        {
            var rule = RandomRule(random);
            NatRuleCompiler.Validate(rule).Should().BeNull(rule.ToString());
            NatRuleDecoder.TryDecode(rule.Chain, NatRuleCompiler.Compile(rule), out var problem).Should().Be(rule, problem);
        }
    }

    [Fact]
    public void Expressions_WrittenAndReadBack_AreEqual()
    {
        foreach (var rule in All)
        {
            var program = NatRuleCompiler.Compile(rule);
            var builder = new NetlinkMessageBuilder();
            builder.BeginMessage(0x0a06, 0);
            int list = builder.BeginNested(NftaRule.Expressions, markNested: true);
            foreach (var expression in program) NftExpressionCodec.Write(builder, expression);
            builder.EndNested(list).EndMessage();

            var read = new List<NftExpression>();
            foreach (var message in new NetlinkMessageEnumerator(builder.Written))
            {
                foreach (var attribute in message.Attributes(0))
                {
                    foreach (var element in attribute.Nested()) read.Add(NftExpressionCodec.Read(element));
                }
            }
            read.Should().Equal(program);
        }
    }

    [Fact]
    public void Decode_AcceptsMatchesInAnyOrder()
    {
        var program = NatRuleCompiler.Compile(DockerMasquerade).ToList();
        // oifname first, then the family dependency and the address: what nft writes for the swapped words.
        List<NftExpression> swapped = [program[4], program[5], program[0], program[1], program[2], program[3], program[6]];

        NatRuleDecoder.TryDecode(NatChain.Postrouting, swapped, out _).Should().Be(DockerMasquerade);
    }

    private static readonly (string Reason, NftExpression[] Program)[] UnrecognizableCases =
    [
        ("counter", [new OtherExpression("counter"), new MasqueradeStatement()]),
        ("an interface name pattern", [new MetaLoad(NftValue.MetaOifName, 1), new Compare(1, NftValue.CmpEq, Bytes(101, 116, 104)), new MasqueradeStatement()]),
        ("without meta nfproto", [new PayloadLoad(NftValue.PayloadNetworkHeader, 12, 2, 1), new Compare(1, NftValue.CmpEq, Bytes(10, 0)), new MasqueradeStatement()]),
        ("meta nfproto without an address", [new MetaLoad(NftValue.MetaNfProto, 1), new Compare(1, NftValue.CmpEq, Bytes(2)), new MasqueradeStatement()]),
        ("after the NAT statement", [new MasqueradeStatement(), new MasqueradeStatement()]),
        ("no masquerade, snat or dnat", [new MetaLoad(NftValue.MetaL4Proto, 1), new Compare(1, NftValue.CmpEq, Bytes(6))]),
        ("register that no statement uses", [new Immediate(1, Bytes(10, 0, 0, 1)), new MasqueradeStatement()]),
        ("flags other than", [new Immediate(1, Bytes(10, 0, 0, 1)), new NatStatement(NftValue.NatSnat, NfProto.Ipv4, 1, null, NftValue.NatRangeMapIps | 0x4)]),
        ("without a tcp/udp protocol", [new PayloadLoad(NftValue.PayloadTransportHeader, 2, 2, 1), new Compare(1, NftValue.CmpEq, Bytes(0, 80)), new MasqueradeStatement()]),
        ("not a prefix mask", [new MetaLoad(NftValue.MetaNfProto, 1), new Compare(1, NftValue.CmpEq, Bytes(2)), new PayloadLoad(NftValue.PayloadNetworkHeader, 12, 4, 1), new BitwiseMaskXor(1, 1, Bytes(255, 0, 255, 0), Bytes(0, 0, 0, 0)), new Compare(1, NftValue.CmpEq, Bytes(10, 0, 0, 0)), new MasqueradeStatement()]),
        ("not a whole source or destination address", [new MetaLoad(NftValue.MetaNfProto, 1), new Compare(1, NftValue.CmpEq, Bytes(2)), new PayloadLoad(NftValue.PayloadNetworkHeader, 9, 1, 1), new Compare(1, NftValue.CmpEq, Bytes(6)), new MasqueradeStatement()]),
        ("another family", [new MetaLoad(NftValue.MetaNfProto, 1), new Compare(1, NftValue.CmpEq, Bytes(10)), new PayloadLoad(NftValue.PayloadNetworkHeader, 8, 2, 1), new Compare(1, NftValue.CmpEq, Bytes(0xfd, 0)), new Immediate(1, Bytes(10, 0, 0, 1)), new NatStatement(NftValue.NatSnat, NfProto.Ipv4, 1, null, NftValue.NatRangeMapIps)]),
    ];

    public static TheoryData<int> Unrecognizable => new(Enumerable.Range(0, UnrecognizableCases.Length));

    [Theory]
    [MemberData(nameof(Unrecognizable))]
    public void Decode_OutsideTheVocabulary_SaysWhy(int index)
    {
        var (reason, program) = UnrecognizableCases[index];
        NatRuleDecoder.TryDecode(NatChain.Postrouting, program, out var problem).Should().BeNull();
        problem.Should().Contain(reason);
    }

    public static TheoryData<NatRuleState, string> Invalid => new()
    {
        { RouterSnat with { ToAddress = IPAddress.Parse("fd00::1") }, "it mixes IPv4 and IPv6 addresses" },
        { DockerMasquerade with { ToAddress = IPAddress.Parse("10.0.0.1") }, "masquerade takes no 'to' address or port" },
        { RouterSnat with { ToAddress = null }, "snat needs a 'to' address" },
        { PortForward with { L4Protocol = null }, "a destination port needs the protocol tcp, udp, sctp, dccp or udplite" },
        { PortForward with { L4Protocol = 1 }, "a destination port needs the protocol tcp, udp, sctp, dccp or udplite" },
        { PortForward with { DestinationPort = null, L4Protocol = null }, "a 'to' port needs the protocol tcp, udp, sctp, dccp or udplite" },
        { PortForward with { ToPort = 0 }, "ports are 1-65535" },
        { DockerMasquerade with { OutInterface = new NatInterface("sixteen-bytes-xx", false) }, "interface name 'sixteen-bytes-xx' is not 1-15 bytes long" },
        { DockerMasquerade with { Unrecognized = "counter" }, "the rule is unrecognized (counter) and cannot be written" },
    };

    [Theory]
    [MemberData(nameof(Invalid))]
    public void Validate_RejectsRulesOutsideTheVocabulary_WithTheReason(NatRuleState rule, string reason)
    {
        NatRuleCompiler.Validate(rule).Should().Be(reason);
    }

    [Fact]
    public void UserDataComment_IsLibnftnlsTlv_AndLongCommentsAreCutOnACharacterBoundary()
    {
        NftRequests.UserDataComment("vnet").Should().Equal(0, 5, (byte)'v', (byte)'n', (byte)'e', (byte)'t', 0);
        NftRequests.ReadComment(NftRequests.UserDataComment("masquerade 172.17.0.0/16 out !docker0"))
            .Should().Be("masquerade 172.17.0.0/16 out !docker0");

        string longText = new string('a', 126) + "é" + "tail";
        var tlv = NftRequests.UserDataComment(longText);
        tlv.Length.Should().BeLessThanOrEqualTo(2 + 128);
        NftRequests.ReadComment(tlv).Should().Be(new string('a', 126));
    }

    [Fact]
    public void Describe_UsesTheWordsOfTheTopologyFile()
    {
        DockerMasquerade.Describe().Should().Be("masquerade 172.17.0.0/16 out !docker0");
        RouterSnat.Describe().Should().Be("snat 10.0.1.0/24 to 192.0.2.1 out wan0");
        PortForward.Describe().Should().Be("port_forward tcp 8080 to 172.17.0.2:80 in eth0");
        PortForwardLocal.Describe().Should().Be("port_forward tcp 8080 to 172.17.0.2:80 (output chain)");
        Ipv6PortForward.Describe().Should().Be("port_forward udp 53 to [fd00:17::2]:5353 destination fd00:1::1/128");
        DnatWithoutPort.Describe().Should().Be("dnat to 10.0.0.5 in !wan0 destination 198.51.100.0/24");
        (DockerMasquerade with { Unrecognized = "counter" }).Describe().Should().Be("unrecognized: counter");
    }

    private static NatRuleState RandomRule(Random random)
    {
        var verdict = (NatVerdictKind)random.Next(3);
        int family = random.Next(verdict == NatVerdictKind.Masquerade ? 3 : 2); // 0 IPv4, 1 IPv6, 2 none
        byte? protocol = random.Next(3) switch { 0 => null, 1 => (byte)6, _ => (byte)17 };
        var chain = verdict == NatVerdictKind.Dnat
            ? (random.Next(2) == 0 ? NatChain.Prerouting : NatChain.Output)
            : NatChain.Postrouting;
        return new NatRuleState(
            chain,
            verdict,
            Source: family < 2 && random.Next(2) == 0 ? RandomNetwork(random, family) : null,
            Destination: family < 2 && random.Next(2) == 0 ? RandomNetwork(random, family) : null,
            InInterface: random.Next(3) == 0 ? new NatInterface(RandomName(random), random.Next(2) == 0) : null,
            OutInterface: random.Next(3) == 0 ? new NatInterface(RandomName(random), random.Next(2) == 0) : null,
            L4Protocol: protocol,
            DestinationPort: protocol is not null && random.Next(2) == 0 ? (ushort)random.Next(1, 65536) : null,
            ToAddress: verdict == NatVerdictKind.Masquerade ? null : RandomAddress(random, family),
            ToPort: verdict != NatVerdictKind.Masquerade && protocol is not null && random.Next(2) == 0 ? (ushort)random.Next(1, 65536) : null);
    }

    private static IPAddress RandomAddress(Random random, int family)
    {
        var bytes = new byte[family == 0 ? 4 : 16];
        random.NextBytes(bytes);
        return new IPAddress(bytes);
    }

    private static IPNetwork RandomNetwork(Random random, int family)
    {
        var bytes = RandomAddress(random, family).GetAddressBytes();
        int prefix = random.Next(bytes.Length * 8 + 1);
        var mask = NatRuleCompiler.PrefixMask(bytes.Length, prefix);
        for (int i = 0; i < bytes.Length; i++) bytes[i] &= mask[i];
        return new IPNetwork(new IPAddress(bytes), prefix);
    }

    private static string RandomName(Random random)
    {
        const string alphabet = "abcdefghijklmnopqrstuvwxyz0123456789-_.";
        return new string(Enumerable.Range(0, random.Next(1, 16)).Select(_ => alphabet[random.Next(alphabet.Length)]).ToArray());
    }
}
