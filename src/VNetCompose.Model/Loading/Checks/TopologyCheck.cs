namespace VNetCompose.Model.Loading;

/// <summary>
/// A rule across sections (references, uniqueness, likely mistakes), run on the whole draft after every
/// section was read, so that it sees declarations wherever they are in the file.
/// </summary>
internal interface ITopologyCheck
{
    void Check(TopologyIndex index, DiagnosticBag diagnostics);
}

/// <summary>The draft with the lookups several checks need, built once.</summary>
internal sealed class TopologyIndex
{
    public static readonly IReadOnlyList<ITopologyCheck> Checks =
    [
        new NamespaceReferenceCheck(),
        new InterfaceNameCheck(),
        new BridgePortCheck(),
        new AddressCheck(),
        new RouteCheck(),
        new LinkSettingsCheck(),
        new ParentCheck(),
        new NatCheck(),
        new ShapingCheck(),
        new OvsCheck(),
    ];

    private readonly Dictionary<(string Namespace, string Name), InterfaceDraft> byName = [];
    private readonly ILookup<string, InterfaceDraft> byNamespace;
    private readonly Lazy<CandidateNames> namespaceCandidates;
    private readonly Dictionary<string, CandidateNames> bridgeCandidates = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Namespace, string Name), OvsBridgeDraft> ovsByName = [];

    public TopologyIndex(TopologyDraft draft)
    {
        Draft = draft;
        DeclaredNamespaces = draft.Namespaces.Select(n => n.Name.Value).ToHashSet(StringComparer.Ordinal);
        foreach (InterfaceDraft link in Named)
            byName.TryAdd((link.Namespace!, link.Name!.Value.Value), link);
        byNamespace = Named.ToLookup(l => l.Namespace!, StringComparer.Ordinal);
        namespaceCandidates = new(() => new CandidateNames(DeclaredNamespaces.Append(Topology.HostNamespace)));
        foreach (InterfaceDraft bridge in Named.Where(i => i.Kind.IsSwitch))
            BridgesByName.TryAdd(bridge.Name!.Value.Value, bridge);
        foreach (OvsBridgeDraft ovs in draft.OvsBridges)
        {
            if (ovs.Name is not { } name) continue;
            OvsBridgesByName.TryAdd(name.Value, ovs);
            if (ovs.Namespace is { } ns) ovsByName.TryAdd((ns, name.Value), ovs);
        }
    }

    public TopologyDraft Draft { get; }
    public IReadOnlySet<string> DeclaredNamespaces { get; }

    /// <summary>"did you mean" for this file: indexed and bounded (see <see cref="NameSuggestions"/>).</summary>
    public NameSuggestions Suggestions { get; } = new();

    /// <summary>The declared namespaces and host, to suggest from.</summary>
    public CandidateNames NamespaceCandidates => namespaceCandidates.Value;

    /// <summary>The first bridge declared with each name, in any namespace.</summary>
    public Dictionary<string, InterfaceDraft> BridgesByName { get; } = new(StringComparer.Ordinal);

    /// <summary>The first OVS bridge declared with each name, in any namespace.</summary>
    public Dictionary<string, OvsBridgeDraft> OvsBridgesByName { get; } = new(StringComparer.Ordinal);

    /// <summary>The first OVS bridge declared with this name in this namespace.</summary>
    public OvsBridgeDraft? FindOvsBridge(string ns, string name) => ovsByName.GetValueOrDefault((ns, name));

    /// <summary>The bridges of a namespace, to suggest from.</summary>
    public CandidateNames BridgeCandidatesIn(string ns)
    {
        if (!bridgeCandidates.TryGetValue(ns, out var candidates))
            bridgeCandidates[ns] = candidates = new CandidateNames(NamedIn(ns).Where(i => i.Kind.IsSwitch).Select(b => b.Name!.Value.Value));
        return candidates;
    }

    /// <summary>Interfaces whose name and namespace were read without error: the ones checks can reason about.</summary>
    public IEnumerable<InterfaceDraft> Named => Draft.Interfaces.Where(i => i.Name is not null && i.Namespace is not null);

    /// <summary>The named interfaces of a namespace, in declaration order (an index: checks run per namespace).</summary>
    public IEnumerable<InterfaceDraft> NamedIn(string ns) => byNamespace[ns];

    /// <summary>The first interface declared with this name in this namespace.</summary>
    public InterfaceDraft? Find(string ns, string name) => byName.GetValueOrDefault((ns, name));

    /// <summary>The bridge a port's <c>bridge:</c> names, when it is a bridge in the port's namespace.</summary>
    public InterfaceDraft? BridgeOf(InterfaceDraft port) =>
        port is { Bridge: { } bridge, Namespace: { } ns } && Find(ns, bridge.Value) is { Kind.IsSwitch: true } found ? found : null;

    public static void RunAll(TopologyDraft draft, DiagnosticBag diagnostics)
    {
        var index = new TopologyIndex(draft);
        foreach (ITopologyCheck check in Checks)
            check.Check(index, diagnostics);
    }
}
