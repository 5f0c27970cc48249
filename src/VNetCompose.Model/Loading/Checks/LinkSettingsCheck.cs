namespace VNetCompose.Model.Loading;

/// <summary>
/// Link-layer settings that work but are likely mistakes: veth ends with different MTUs (frames that fit one
/// end are dropped by the other), and one MAC address on two interfaces.
/// </summary>
internal sealed class LinkSettingsCheck : ITopologyCheck
{
    /// <summary>What a veth gets when no mtu is given (ETH_DATA_LEN).</summary>
    private const int DefaultMtu = 1500;

    public void Check(TopologyIndex index, DiagnosticBag diagnostics)
    {
        foreach (VethDraft veth in index.Draft.Veths)
        {
            long a = veth.A.Mtu?.Value ?? DefaultMtu, b = veth.B.Mtu?.Value ?? DefaultMtu;
            if (a != b)
            {
                Located<long> set = veth.B.Mtu ?? veth.A.Mtu!.Value;
                diagnostics.Warning(set.At, set.Path,
                    $"the ends of this veth have different MTUs ({a} and {b}); frames larger than the smaller one are dropped");
            }
        }
        var owners = new Dictionary<string, InterfaceDraft>(StringComparer.Ordinal);
        foreach (InterfaceDraft link in index.Draft.Interfaces)
        {
            if (link.Mac is { } mac && !owners.TryAdd(mac.Value, link))
                diagnostics.Warning(mac.At, mac.Path, $"MAC address {mac.Value} is also used by {owners[mac.Value].Reference}");
        }
    }
}
