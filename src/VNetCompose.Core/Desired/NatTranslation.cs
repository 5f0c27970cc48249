using System.Net;
using System.Net.Sockets;
using VNetCompose.Kernel;
using VNetCompose.Model;

namespace VNetCompose.Core.Desired;

/// <summary>Turns the topology's NAT rules into the kernel-level rule vocabulary of <see cref="NatRuleState"/>.</summary>
public static class NatTranslation
{
    /// <summary>IPPROTO_TCP / IPPROTO_UDP (include/uapi/linux/in.h).</summary>
    public const byte Tcp = 6, Udp = 17;

    /// <summary>
    /// masquerade and snat become one postrouting rule; a port_forward becomes a prerouting DNAT rule
    /// and, when it names a destination, an output-chain rule so locally generated traffic to that
    /// address is forwarded too (without a destination an output rule would capture every local
    /// connection to the port).
    /// </summary>
    public static IEnumerable<NatRuleState> Translate(NatRule rule) => rule switch
    {
        MasqueradeRule m => [new NatRuleState(NatChain.Postrouting, NatVerdictKind.Masquerade, m.Source, m.Destination,
            OutInterface: Interface(m.Out))],
        SnatRule s => [new NatRuleState(NatChain.Postrouting, NatVerdictKind.Snat, s.Source, s.Destination,
            OutInterface: Interface(s.Out), ToAddress: s.To)],
        PortForwardRule p => PortForward(p),
        _ => throw new ArgumentOutOfRangeException(nameof(rule), rule.GetType().Name, "unknown NAT rule"),
    };

    private static IEnumerable<NatRuleState> PortForward(PortForwardRule p)
    {
        var prerouting = new NatRuleState(NatChain.Prerouting, NatVerdictKind.Dnat, Destination: p.Destination,
            InInterface: Interface(p.In), L4Protocol: p.Protocol == NatProtocol.Tcp ? Tcp : Udp,
            DestinationPort: checked((ushort)p.Port), ToAddress: p.ToAddress,
            ToPort: p.ToPort is { } port ? checked((ushort)port) : null);
        yield return prerouting;
        if (p.Destination is not null) yield return prerouting with { Chain = NatChain.Output, InInterface = null };
    }

    private static NatInterface? Interface(InterfaceMatch? match) =>
        match is null ? null : new NatInterface(match.Name, match.Negated);

    /// <summary>True when the rule names IPv6 addresses: it translates IPv6 packets only (and needs IPv6 forwarding).</summary>
    public static bool IsIPv6(NatRule rule) => rule switch
    {
        MasqueradeRule m => V6(m.Source) || V6(m.Destination),
        SnatRule s => V6(s.Source) || V6(s.Destination) || s.To.AddressFamily == AddressFamily.InterNetworkV6,
        PortForwardRule p => V6(p.Destination) || p.ToAddress.AddressFamily == AddressFamily.InterNetworkV6,
        _ => false,
    };

    private static bool V6(IPNetwork? network) => network?.BaseAddress.AddressFamily == AddressFamily.InterNetworkV6;

    /// <summary>Rules compared as the kernel keeps them: per chain, in order.</summary>
    public static IReadOnlyList<NatRuleState> Canonical(IEnumerable<NatRuleState> rules) => rules.OrderBy(r => r.Chain).ToList();
}
