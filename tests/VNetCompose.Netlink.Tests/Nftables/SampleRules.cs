using System.Net;
using VNetCompose.Kernel;

namespace VNetCompose.Netlink.Tests.Nftables;

/// <summary>NAT rules covering the vocabulary: the docker0 figure, a router's snat, port forwards, IPv6.</summary>
internal static class SampleRules
{
    public static readonly NatRuleState DockerMasquerade = new(NatChain.Postrouting, NatVerdictKind.Masquerade,
        Source: IPNetwork.Parse("172.17.0.0/16"), OutInterface: new NatInterface("docker0", Negated: true));

    public static readonly NatRuleState RouterSnat = new(NatChain.Postrouting, NatVerdictKind.Snat,
        Source: IPNetwork.Parse("10.0.1.0/24"), OutInterface: new NatInterface("wan0", Negated: false),
        ToAddress: IPAddress.Parse("192.0.2.1"));

    public static readonly NatRuleState PortForward = new(NatChain.Prerouting, NatVerdictKind.Dnat,
        InInterface: new NatInterface("eth0", Negated: false), L4Protocol: 6, DestinationPort: 8080,
        ToAddress: IPAddress.Parse("172.17.0.2"), ToPort: 80);

    /// <summary>The same forward for locally generated traffic: the output chain has no input interface.</summary>
    public static readonly NatRuleState PortForwardLocal = PortForward with { Chain = NatChain.Output, InInterface = null };

    public static readonly NatRuleState Ipv6Masquerade = new(NatChain.Postrouting, NatVerdictKind.Masquerade,
        Source: IPNetwork.Parse("fd00:17::/64"), OutInterface: new NatInterface("eth0", Negated: false));

    public static readonly NatRuleState Ipv6PortForward = new(NatChain.Prerouting, NatVerdictKind.Dnat,
        Destination: IPNetwork.Parse("fd00:1::1/128"), L4Protocol: 17, DestinationPort: 53,
        ToAddress: IPAddress.Parse("fd00:17::2"), ToPort: 5353);

    /// <summary>A prefix that is not byte-aligned (a bitwise mask) and a full-length destination.</summary>
    public static readonly NatRuleState OddPrefixMasquerade = new(NatChain.Postrouting, NatVerdictKind.Masquerade,
        Source: IPNetwork.Parse("10.1.16.0/20"), Destination: IPNetwork.Parse("192.0.2.7/32"));

    /// <summary>Masquerade without addresses: both families, no meta nfproto.</summary>
    public static readonly NatRuleState AnyFamilyMasquerade = new(NatChain.Postrouting, NatVerdictKind.Masquerade,
        OutInterface: new NatInterface("uplink0", Negated: false));

    public static readonly NatRuleState SnatWithPort = new(NatChain.Postrouting, NatVerdictKind.Snat,
        Source: IPNetwork.Parse("10.9.0.0/16"), L4Protocol: 17, ToAddress: IPAddress.Parse("192.0.2.9"), ToPort: 4000);

    public static readonly NatRuleState DnatWithoutPort = new(NatChain.Prerouting, NatVerdictKind.Dnat,
        Destination: IPNetwork.Parse("198.51.100.0/24"), InInterface: new NatInterface("wan0", Negated: true),
        ToAddress: IPAddress.Parse("10.0.0.5"));

    public static readonly NatRuleState[] All =
    [
        DockerMasquerade, RouterSnat, OddPrefixMasquerade, AnyFamilyMasquerade, SnatWithPort, Ipv6Masquerade,
        PortForward, Ipv6PortForward, DnatWithoutPort, PortForwardLocal,
    ];

    /// <summary>Rules as the driver reads them back: grouped by chain in NatChain order, stable within a chain.</summary>
    public static IReadOnlyList<NatRuleState> Canonical(IEnumerable<NatRuleState> rules) =>
        rules.Select((r, i) => (r, i)).OrderBy(x => x.r.Chain).ThenBy(x => x.i).Select(x => x.r).ToList();
}
