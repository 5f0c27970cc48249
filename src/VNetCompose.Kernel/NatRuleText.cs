using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace VNetCompose.Kernel;

/// <summary>
/// A NAT rule in the words of the topology file, e.g. <c>masquerade 172.17.0.0/16 out !docker0</c>,
/// <c>snat 10.0.1.0/24 to 192.0.2.1 out wan0</c>, <c>port_forward tcp 8080 to 172.17.0.2:80 in eth0</c>.
/// The nf_tables driver stores it as the rule's comment (so <c>nft list</c> shows it) and plans show it.
/// A rule in a chain other than its verdict's usual one says so (<c>(output chain)</c>): a port forward
/// is written twice, for forwarded (prerouting) and locally generated (output) traffic.
/// </summary>
public static class NatRuleText
{
    /// <summary>The rule in the words of a topology file.</summary>
    public static string Describe(this NatRuleState rule)
    {
        ArgumentNullException.ThrowIfNull(rule);
        if (rule.Unrecognized is not null) return $"unrecognized: {rule.Unrecognized}";
        var text = new StringBuilder();
        bool portForward = rule.Verdict == NatVerdictKind.Dnat && rule.L4Protocol is not null && rule.DestinationPort is not null;
        if (portForward)
        {
            text.Append("port_forward ").Append(Protocol(rule.L4Protocol!.Value))
                .Append(' ').Append(rule.DestinationPort!.Value.ToString(CultureInfo.InvariantCulture));
        }
        else
        {
            text.Append(rule.Verdict.ToString().ToLowerInvariant());
            if (rule.Source is { } source) text.Append(' ').Append(source);
            if (rule.L4Protocol is { } protocol) text.Append(" protocol ").Append(Protocol(protocol));
            if (rule.DestinationPort is { } port) text.Append(" port ").Append(port.ToString(CultureInfo.InvariantCulture));
        }
        if (rule.ToAddress is { } to) text.Append(" to ").Append(Endpoint(to, rule.ToPort));
        if (portForward && rule.Source is { } forwardedSource) text.Append(" source ").Append(forwardedSource);
        if (rule.InInterface is { } iif) text.Append(" in ").Append(Interface(iif));
        if (rule.OutInterface is { } oif) text.Append(" out ").Append(Interface(oif));
        if (rule.Destination is { } destination) text.Append(" destination ").Append(destination);
        var usual = rule.Verdict == NatVerdictKind.Dnat ? NatChain.Prerouting : NatChain.Postrouting;
        if (rule.Chain != usual) text.Append(" (").Append(rule.Chain.ToString().ToLowerInvariant()).Append(" chain)");
        return text.ToString();
    }

    private static string Interface(NatInterface match) => match.Negated ? "!" + match.Name : match.Name;

    private static string Endpoint(IPAddress address, ushort? port) => port is not { } p
        ? address.ToString()
        : address.AddressFamily == AddressFamily.InterNetworkV6
            ? $"[{address}]:{p.ToString(CultureInfo.InvariantCulture)}"
            : $"{address}:{p.ToString(CultureInfo.InvariantCulture)}";

    private static string Protocol(byte protocol) => protocol switch
    {
        6 => "tcp",
        17 => "udp",
        33 => "dccp",
        132 => "sctp",
        136 => "udplite",
        _ => protocol.ToString(CultureInfo.InvariantCulture),
    };
}
