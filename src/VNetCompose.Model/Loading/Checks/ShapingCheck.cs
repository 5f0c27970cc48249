using VNetCompose.Kernel.Links.Kinds;

namespace VNetCompose.Model.Loading;

/// <summary>
/// Shaping across keys: a veth end's <c>egress:</c> and its pair's <c>impair:</c> would both set the same qdisc
/// (refused rather than merged: which one wins would be a guess); the ifb vnet makes for a link's
/// <c>ingress:</c> (<see cref="IfbKind.NameFor"/>) must not take a name the namespace already uses.
/// </summary>
internal sealed class ShapingCheck : ITopologyCheck
{
    public void Check(TopologyIndex index, DiagnosticBag diagnostics)
    {
        foreach (VethDraft veth in index.Draft.Veths)
        {
            if (veth.Impair is not { } impair) continue;
            foreach (InterfaceDraft end in new[] { veth.A, veth.B })
            {
                if (end.Egress is not { } egress) continue;
                diagnostics.Error(egress.At, egress.Path,
                    $"{impair.Path} (line {impair.At.Line}) already shapes what this end sends; put every key in impair, "
                    + "or drop impair and give each end its own egress");
            }
        }

        var ifbs = new Dictionary<(string Namespace, string Name), InterfaceDraft>();
        foreach (InterfaceDraft link in index.Named)
        {
            if (link.Ingress is not { } ingress) continue;
            string ifb = IfbKind.NameFor(link.Name!.Value.Value);
            if (index.Find(link.Namespace!, ifb) is { } holder)
            {
                diagnostics.Error(ingress.At, ingress.Path,
                    $"the ifb device vnet makes for this ingress is named '{ifb}', which {holder.Reference} already uses; rename that interface");
            }
            else if (!ifbs.TryAdd((link.Namespace!, ifb), link))
            {
                diagnostics.Error(ingress.At, ingress.Path,
                    $"the ifb device vnet makes for this ingress would be named '{ifb}', as the one for {ifbs[(link.Namespace!, ifb)].NameAndReference}; rename one of the two");
            }
        }
    }
}
