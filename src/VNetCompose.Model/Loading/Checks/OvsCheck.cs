namespace VNetCompose.Model.Loading;

/// <summary>
/// Open vSwitch rules: an OVS bridge's name is an interface of its namespace (its internal port) and so unique
/// there; <c>vlan</c> and <c>trunks</c> only on ports of an OVS bridge (a Linux bridge's VLANs are not set this
/// way, and this kernel family may lack 802.1q and vlan_filtering).
/// </summary>
internal sealed class OvsCheck : ITopologyCheck
{
    /// <summary>The OVS bridge a link's <c>bridge:</c> names in the link's own namespace, or null.</summary>
    public static OvsBridgeDraft? OvsBridgeOf(TopologyIndex index, InterfaceDraft port) =>
        port is { Bridge: { } bridge, Namespace: { } ns }
            ? index.FindOvsBridge(ns, bridge.Value)
            : null;

    public void Check(TopologyIndex index, DiagnosticBag diagnostics)
    {
        var seen = new Dictionary<(string, string), OvsBridgeDraft>();
        OvsBridgeDraft? firstBridge = null;
        foreach (var bridge in index.Draft.OvsBridges)
        {
            if (bridge is not { Name: { } name, Namespace: { } ns }) continue;
            // One ovs-vswitchd (the one at --ovsdb) serves every OVS bridge, and it runs in one namespace.
            firstBridge ??= bridge;
            if (ns != firstBridge.Namespace)
            {
                diagnostics.Error(bridge.At, bridge.Path + ".namespace",
                    $"OVS bridge '{name.Value}' is in namespace '{ns}' but '{firstBridge.Name?.Value}' is in '{firstBridge.Namespace}': one ovs-vswitchd "
                    + "serves every OVS bridge of a topology, and its bridges' ports are in the namespace where it runs");
                continue;
            }
            if (!seen.TryAdd((ns, name.Value), bridge))
            {
                diagnostics.Error(name.At, name.Path,
                    $"OVS bridge '{name.Value}' is already declared in namespace '{ns}' by {seen[(ns, name.Value)].Path} (line {seen[(ns, name.Value)].At.Line})");
            }
            else if (index.Find(ns, name.Value) is { } link)
            {
                diagnostics.Error(name.At, name.Path,
                    $"interface '{name.Value}' is already declared in namespace '{ns}' by {link.Reference}; an OVS bridge's internal port is an interface of that name");
            }
        }

        foreach (var port in index.Draft.Interfaces)
        {
            if (OvsBridgeOf(index, port) is { } ovs && port.Addresses.Count > 0)
            {
                Located<IfAddress> first = port.Addresses[0];
                diagnostics.Warning(first.At, first.Path,
                    $"this interface is a port of OVS bridge '{ovs.Name?.Value}', where addresses do not work; put them on the bridge");
            }
            if (port.OvsPort is not { } settings) continue;
            if (OvsBridgeOf(index, port) is not null) continue;
            string key = settings.Path[(settings.Path.LastIndexOf('.') + 1)..];
            string why = port.Bridge is { } bridge
                ? $"'{bridge.Value}' is not an OVS bridge in namespace '{port.Namespace}' (declare it under 'ovs_bridges')"
                : "this link has no 'bridge:' naming an OVS bridge";
            diagnostics.Error(settings.At, settings.Path, $"'{key}' applies only to ports of an OVS bridge: {why}");
        }
    }
}
