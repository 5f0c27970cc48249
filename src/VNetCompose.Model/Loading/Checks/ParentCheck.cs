using VNetCompose.Kernel.Links;

namespace VNetCompose.Model.Loading;

/// <summary>
/// A link's parent (<c>parent:</c>, a vxlan's <c>dev:</c>) is a link the topology declares in that namespace, or,
/// in <c>host</c>, a link that already exists there (the machine's <c>eth0</c>: used, never changed; the plan checks
/// that it exists). A namespace the topology declares is created empty by vnet, so a parent there must be declared.
/// A parent cannot be the link itself, a tun (no Ethernet frames), nor lead round to the link again.
/// </summary>
internal sealed class ParentCheck : ITopologyCheck
{
    public void Check(TopologyIndex index, DiagnosticBag diagnostics)
    {
        var withParent = index.Named.Where(l => l.Parent is not null).ToList();
        foreach (InterfaceDraft link in withParent)
        {
            var parent = link.Parent!.Value;
            var (ns, name) = parent.Value;
            if (index.Find(ns, name) is not { } found)
            {
                if (index.DeclaredNamespaces.Contains(ns)) // an undeclared namespace is reported by NamespaceReferenceCheck
                {
                    diagnostics.Error(parent.At, parent.Path,
                        $"no link '{name}' is declared in namespace '{ns}'; vnet creates that namespace empty, so a {link.Kind.ParentKey} there must be declared"
                        + Suggestions.DidYouMean(name, index.NamedIn(ns).Select(l => l.Name!.Value.Value)));
                }
                continue;
            }
            if (ReferenceEquals(found, link))
                diagnostics.Error(parent.At, parent.Path, $"a link cannot be its own {link.Kind.ParentKey}");
            else if (!found.Kind.CarriesEthernet && link.Kind.Parent == ParentUse.Required)
                diagnostics.Error(parent.At, parent.Path, $"{found.NameAndReference} is a {found.KindName}, which carries no Ethernet frames for a {link.Kind.Name} to share");
        }
        ReportCycles(index, withParent, diagnostics);
    }

    /// <summary>Links whose parents lead back to them cannot be created in any order.</summary>
    private static void ReportCycles(TopologyIndex index, List<InterfaceDraft> withParent, DiagnosticBag diagnostics)
    {
        var reported = new HashSet<InterfaceDraft>();
        foreach (InterfaceDraft start in withParent)
        {
            var seen = new List<InterfaceDraft> { start };
            var current = start;
            while (current.Parent is { } p && index.Find(p.Value.Namespace, p.Value.Name) is { } next && !ReferenceEquals(next, current))
            {
                if (ReferenceEquals(next, start))
                {
                    if (seen.Any(reported.Contains)) break;
                    reported.UnionWith(seen);
                    diagnostics.Error(start.Parent!.Value.At, start.Parent.Value.Path,
                        $"parents form a cycle: {string.Join(" -> ", seen.Select(l => l.Name!.Value.Value))} -> {start.Name!.Value.Value}");
                    break;
                }
                if (seen.Contains(next)) break; // a cycle that does not pass through start: reported from one of its own
                seen.Add(next);
                current = next;
            }
        }
    }
}
