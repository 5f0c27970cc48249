namespace VNetCompose.Model.Loading;

/// <summary>Every <c>namespace:</c> names host or a namespace declared under <c>namespaces:</c>.</summary>
internal sealed class NamespaceReferenceCheck : ITopologyCheck
{
    public void Check(TopologyIndex index, DiagnosticBag diagnostics)
    {
        foreach (Located<string> reference in index.Draft.NamespaceReferences)
        {
            if (!index.DeclaredNamespaces.Contains(reference.Value))
            {
                diagnostics.Error(reference.At, reference.Path,
                    $"namespace '{reference.Value}' is not declared under 'namespaces'"
                    + index.Suggestions.DidYouMean(reference.Value, index.NamespaceCandidates));
            }
        }
    }
}
