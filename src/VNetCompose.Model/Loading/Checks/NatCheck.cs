namespace VNetCompose.Model.Loading;

/// <summary>A port forward that an earlier one with the same match shadows: the first DNAT wins, this one never applies.</summary>
internal sealed class NatCheck : ITopologyCheck
{
    public void Check(TopologyIndex index, DiagnosticBag diagnostics)
    {
        var seen = new Dictionary<(string, NatProtocol, int, InterfaceMatch?, System.Net.IPNetwork?), PortForwardRule>();
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
    }
}
