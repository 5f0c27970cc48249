namespace VNetCompose.Model.Loading;

/// <summary>
/// <c>bridge:</c> names a bridge declared in the port's own namespace (the kernel cannot enslave across
/// namespaces), and a port carries no address (the bridge takes its frames before IP sees them).
/// </summary>
internal sealed class BridgePortCheck : ITopologyCheck
{
    public void Check(TopologyIndex index, DiagnosticBag diagnostics)
    {
        // A port whose own name is wrong still has a bridge reference worth checking.
        foreach (InterfaceDraft port in index.Draft.Interfaces)
        {
            if (port is not { Bridge: { } bridge, Namespace: { } ns })
                continue;
            if (OvsCheck.OvsBridgeOf(index, port) is not null)
                continue; // a port of an OVS bridge: OvsCheck
            if (index.BridgeOf(port) is null)
            {
                diagnostics.Error(bridge.At, bridge.Path, Problem(index, ns, bridge.Value));
            }
            else if (port.Addresses.Count > 0)
            {
                Located<IfAddress> first = port.Addresses[0];
                diagnostics.Warning(first.At, first.Path,
                    $"this interface is a port of bridge '{bridge.Value}', where addresses do not work; put them on the bridge");
            }
        }
    }

    /// <summary>Why a port's <c>bridge:</c> names no bridge of its namespace; every lookup indexed.</summary>
    private static string Problem(TopologyIndex index, string ns, string name)
    {
        if (index.Find(ns, name) is { } other)
            return $"'{name}' in namespace '{ns}' is a {other.KindName}, not a bridge";
        if (index.OvsBridgesByName.TryGetValue(name, out var ovs))
            return $"OVS bridge '{name}' is in namespace '{ovs.Namespace}', not '{ns}'; a port must be in the namespace of its bridge's ovs-vswitchd";
        if (index.BridgesByName.TryGetValue(name, out var elsewhere))
            return $"bridge '{name}' is in namespace '{elsewhere.Namespace}', not '{ns}'; a port must be in its bridge's namespace";
        return $"no bridge '{name}' is declared in namespace '{ns}'" + index.Suggestions.DidYouMean(name, index.BridgeCandidatesIn(ns));
    }
}
