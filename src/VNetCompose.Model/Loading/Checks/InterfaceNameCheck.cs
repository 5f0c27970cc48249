namespace VNetCompose.Model.Loading;

/// <summary>Interface names are unique per namespace across bridges, veth ends and taps.</summary>
internal sealed class InterfaceNameCheck : ITopologyCheck
{
    public void Check(TopologyIndex index, DiagnosticBag diagnostics)
    {
        foreach (InterfaceDraft link in index.Named)
        {
            Located<string> name = link.Name!.Value;
            InterfaceDraft first = index.Find(link.Namespace!, name.Value)!;
            if (!ReferenceEquals(first, link))
            {
                diagnostics.Error(name.At, name.Path,
                    $"interface '{name.Value}' is already declared in namespace '{link.Namespace}' by {first.Reference}");
            }
        }
    }
}
