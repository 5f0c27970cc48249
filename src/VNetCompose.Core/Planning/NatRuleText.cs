using VNetCompose.Core.Desired;
using VNetCompose.Kernel;

namespace VNetCompose.Core.Planning;

/// <summary>
/// A NAT rule in the words of the topology file: <c>masquerade 172.17.0.0/16 out !docker0</c>,
/// <c>snat 10.0.1.0/24 to 192.0.2.1 out wan0</c>, <c>port_forward tcp 8080 to 172.17.0.2:80 in eth0</c>.
/// </summary>
public static class NatRuleText
{
    public static string Format(NatRuleState rule)
    {
        ArgumentNullException.ThrowIfNull(rule);
        if (rule.Unrecognized is { } text) return $"unrecognized rule in chain {rule.Chain.ToString().ToLowerInvariant()}: {text}";
        var parts = new List<string>();
        switch (rule.Verdict)
        {
            case NatVerdictKind.Masquerade:
                parts.Add("masquerade");
                Matches(rule, parts);
                break;
            case NatVerdictKind.Snat:
                parts.Add("snat");
                Matches(rule, parts);
                parts.Add($"to {rule.ToAddress}");
                break;
            default:
                parts.Add("port_forward");
                parts.Add(rule.L4Protocol switch { NatTranslation.Tcp => "tcp", NatTranslation.Udp => "udp", var p => $"protocol {p}" });
                if (rule.DestinationPort is { } port) parts.Add(port.ToString(System.Globalization.CultureInfo.InvariantCulture));
                parts.Add(rule.ToPort is { } to ? $"to {Host(rule)}:{to}" : $"to {Host(rule)}");
                if (rule.Source is { } source) parts.Add($"source {source}");
                if (rule.Destination is { } destination) parts.Add($"destination {destination}");
                if (rule.Chain == NatChain.Output) parts.Add("(local traffic)");
                break;
        }
        if (rule.InInterface is { } inIf) parts.Add($"in {Interface(inIf)}");
        if (rule.OutInterface is { } outIf) parts.Add($"out {Interface(outIf)}");
        return string.Join(' ', parts);
    }

    private static void Matches(NatRuleState rule, List<string> parts)
    {
        if (rule.Source is { } source) parts.Add(source.ToString());
        if (rule.Destination is { } destination) parts.Add($"destination {destination}");
    }

    private static string Host(NatRuleState rule) =>
        rule.ToAddress is { AddressFamily: System.Net.Sockets.AddressFamily.InterNetworkV6 } v6 && rule.ToPort is not null
            ? $"[{v6}]" : rule.ToAddress?.ToString() ?? "?";

    private static string Interface(NatInterface i) => i.Negated ? "!" + i.Name : i.Name;
}
