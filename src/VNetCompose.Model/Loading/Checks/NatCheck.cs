using System.Net;
using System.Net.Sockets;

namespace VNetCompose.Model.Loading;

/// <summary>
/// Likely mistakes in NAT rules that still load: a port forward that an earlier one with the same match
/// shadows (the first DNAT wins, this one never applies), and a namespace whose NAT rules need forwarding
/// while the topology turns that forwarding off.
/// </summary>
internal sealed class NatCheck : ITopologyCheck
{
    public void Check(TopologyIndex index, DiagnosticBag diagnostics)
    {
        var seen = new Dictionary<(string, NatProtocol, int, InterfaceMatch?, IPNetwork?), PortForwardRule>();
        foreach (PortForwardRule rule in index.Draft.Nat.OfType<PortForwardRule>())
        {
            var match = (rule.Namespace, rule.Protocol, rule.Port, rule.In, rule.Destination);
            if (!seen.TryAdd(match, rule))
            {
                SourceLocation first = seen[match].Location;
                diagnostics.Warning(new Position(rule.Location.Line, rule.Location.Column), rule.Location.KeyPath,
                    $"{rule.Protocol.ToString().ToLowerInvariant()} port {rule.Port} is already forwarded by {first.KeyPath} (line {first.Line}); this rule never applies");
            }
        }

        // The first rule of each namespace and family: one lookup per sysctl, not one scan of every rule.
        var firstRule = new Dictionary<(string Namespace, bool Ipv6Only), NatRule>();
        foreach (NatRule rule in index.Draft.Nat) firstRule.TryAdd((rule.Namespace, HandlesIPv6Only(rule)), rule);
        foreach (NamespaceDraft ns in index.Draft.Namespaces)
        {
            foreach (SysctlSpec off in ns.Sysctls.Where(s => s.Value.Trim() == "0"))
            {
                bool ipv6 = off.Key == "net.ipv6.conf.all.forwarding";
                if (!ipv6 && off.Key != "net.ipv4.ip_forward") continue;
                NatRule? needing = firstRule.GetValueOrDefault((ns.Name.Value, ipv6));
                if (needing is null) continue;
                diagnostics.Warning(new Position(off.Location.Line, off.Location.Column), off.Location.KeyPath,
                    $"{needing.Location.KeyPath} (line {needing.Location.Line}) translates packets this namespace forwards, but {off.Key} 0 turns forwarding off; remove the key and vnet sets it to 1");
            }
        }
    }

    /// <summary>A rule naming IPv6 addresses handles IPv6 only; one naming none handles both families (vnet then turns on IPv4 forwarding).</summary>
    private static bool HandlesIPv6Only(NatRule rule) => rule switch
    {
        MasqueradeRule m => V6(m.Source?.BaseAddress) || V6(m.Destination?.BaseAddress),
        SnatRule s => V6(s.To),
        PortForwardRule p => V6(p.ToAddress),
        _ => false,
    };

    private static bool V6(IPAddress? address) => address?.AddressFamily == AddressFamily.InterNetworkV6;
}
