using VNetCompose.Kernel;
using VNetCompose.Model;

namespace VNetCompose.Core.Planning;

/// <summary>What a planned change does to its object; the symbol is what users see.</summary>
public enum ChangeAction
{
    /// <summary><c>+</c>: the object is created.</summary>
    Create,
    /// <summary><c>~</c>: attributes change in place.</summary>
    Change,
    /// <summary><c>-</c>: the object is deleted.</summary>
    Delete,
    /// <summary><c>-/+</c>: deleted and created again (an attribute the kernel cannot change in place).</summary>
    Replace,
}

/// <summary>One attribute of a change: <c>mtu: 1500 -> 9000</c>. Before is null for a new value, After null for a removed one.</summary>
public sealed record AttributeChange(string Name, string? Before, string? After);

/// <summary>A change to one object, for display; the kernel operations that carry it out are <see cref="Plan.Steps"/>.</summary>
/// <param name="Action">What happens to it.</param>
/// <param name="Attributes">The attributes that change, with their values before and after.</param>
/// <param name="Object">The object (<c>link net0/eth0</c>, <c>route default in ubuntu1</c> when shown).</param>
/// <param name="Reason">Why (a replace: the attribute the kernel cannot change in place).</param>
/// <param name="Location">Where the topology declares the object, when it does.</param>
public sealed record PlannedChange(
    ChangeAction Action,
    ObjectAddress Object,
    IReadOnlyList<AttributeChange> Attributes,
    string? Reason = null,
    SourceLocation? Location = null)
{
    /// <summary>The object class (<see cref="ObjectAddress.Kind"/>).</summary>
    public string Kind => Object.Kind;
}

/// <summary>A desired object whose name is held by something vnet does not own. Nothing is touched while one exists.</summary>
public sealed record PlanConflict(ObjectAddress Object, string Detail, SourceLocation? Location)
{
    /// <summary>The object class (<see cref="ObjectAddress.Kind"/>).</summary>
    public string Kind => Object.Kind;
}

/// <summary>A problem found while planning: an error blocks applying, a warning does not.</summary>
public sealed record PlanProblem(DiagnosticSeverity Severity, string Message, SourceLocation? Location)
{
    /// <summary>An error: the plan cannot be applied.</summary>
    public static PlanProblem Error(string message, SourceLocation? location = null) => new(DiagnosticSeverity.Error, message, location);
    /// <summary>A warning: the plan can be applied.</summary>
    public static PlanProblem Warning(string message, SourceLocation? location = null) => new(DiagnosticSeverity.Warning, message, location);

    /// <summary>Compiler-style: <c>file:line:col: error: key.path: message</c>.</summary>
    public override string ToString() =>
        (Location is null ? "" : $"{Location.File}:{Location.Line}:{Location.Column}: ")
        + (Severity == DiagnosticSeverity.Error ? "error: " : "warning: ")
        + (Location is null || Location.KeyPath.Length == 0 ? "" : Location.KeyPath + ": ") + Message;
}

/// <summary>An object the topology declares, for <c>status</c>; <paramref name="Parts"/> are other objects changes to it may name (a veth's ends).</summary>
public sealed record PlanObject(ObjectAddress Object, IReadOnlyList<ObjectAddress> Parts)
{
    /// <summary>The object class (<see cref="ObjectAddress.Kind"/>).</summary>
    public string Kind => Object.Kind;
}

/// <summary>A link that will vanish without a delete of its own (its namespace or its veth peer is deleted).</summary>
public sealed record LinkRef(NetnsId Namespace, string Name, int Index);

/// <summary>A sysctl value vnet found before changing it, restored by <c>down</c>.</summary>
public sealed record SysctlOriginal(NetnsId Namespace, string Key, string Value);

/// <summary>What vnet owns once the plan is applied: it becomes the state file.</summary>
/// <param name="Namespaces">Named namespaces the instance uses (observed by later commands).</param>
/// <param name="CreatedNamespaces">Named namespaces vnet created: deleted by <c>down</c>.</param>
/// <param name="UsesCurrentNamespace">The namespace vnet runs in holds objects of the instance.</param>
/// <param name="NatNamespaces">Namespaces holding the instance's NAT table.</param>
/// <param name="Sysctls">Sysctl values vnet found before changing them (restored by <c>down</c>).</param>
public sealed record Holdings(
    IReadOnlyList<string> Namespaces,
    IReadOnlyList<string> CreatedNamespaces,
    bool UsesCurrentNamespace,
    IReadOnlyList<NetnsId> NatNamespaces,
    IReadOnlyList<SysctlOriginal> Sysctls)
{
    /// <summary>Nothing held.</summary>
    public static Holdings None { get; } = new([], [], false, [], []);

    /// <summary>The ovsdb-server endpoint through which the instance holds Open vSwitch bridges or ports; null for none.</summary>
    public string? OvsEndpoint { get; init; }

    /// <summary>
    /// The identity (nsfs inode) of each created namespace, recorded once it exists (<see cref="IKernel.NamespaceInode"/>):
    /// a namespace of that name with another inode is not the one vnet created, whatever its markers say.
    /// </summary>
    public IReadOnlyDictionary<string, ulong> NamespaceInodes { get; init; } = new Dictionary<string, ulong>();

    /// <summary>Whether nothing is held.</summary>
    public bool IsEmpty => Namespaces.Count == 0 && CreatedNamespaces.Count == 0 && !UsesCurrentNamespace
        && NatNamespaces.Count == 0 && Sysctls.Count == 0 && OvsEndpoint is null;

    /// <summary>Everything either holds: what the state file says while a plan is being applied.</summary>
    public Holdings Union(Holdings other) => new(
        Namespaces.Union(other.Namespaces).Order(StringComparer.Ordinal).ToList(),
        CreatedNamespaces.Union(other.CreatedNamespaces).Order(StringComparer.Ordinal).ToList(),
        UsesCurrentNamespace || other.UsesCurrentNamespace,
        NatNamespaces.Union(other.NatNamespaces).OrderBy(n => n.Name, StringComparer.Ordinal).ToList(),
        Sysctls.Concat(other.Sysctls.Where(o => !Sysctls.Any(s => s.Namespace == o.Namespace && s.Key == o.Key))).ToList())
    {
        OvsEndpoint = OvsEndpoint ?? other.OvsEndpoint,
        NamespaceInodes = other.NamespaceInodes.Concat(NamespaceInodes).GroupBy(p => p.Key, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Last().Value, StringComparer.Ordinal),
    };

    /// <summary>These holdings without the recorded inodes of <paramref name="names"/> (namespaces about to be made anew).</summary>
    public Holdings Forgetting(IEnumerable<string> names)
    {
        var forgotten = names.ToHashSet(StringComparer.Ordinal);
        return this with
        {
            NamespaceInodes = NamespaceInodes.Where(p => !forgotten.Contains(p.Key)).ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal),
        };
    }

    /// <summary>Every namespace to observe.</summary>
    public IEnumerable<NetnsId> ObservedNamespaces =>
        (UsesCurrentNamespace ? new[] { NetnsId.Current } : [])
        .Concat(Namespaces.Concat(CreatedNamespaces).Distinct().Select(NetnsId.Named))
        .Concat(NatNamespaces).Concat(Sysctls.Select(s => s.Namespace)).Distinct();

    /// <summary>Holds the same, in the same order.</summary>
    public bool Equivalent(Holdings other) =>
        Namespaces.SequenceEqual(other.Namespaces) && CreatedNamespaces.SequenceEqual(other.CreatedNamespaces)
        && UsesCurrentNamespace == other.UsesCurrentNamespace && NatNamespaces.SequenceEqual(other.NatNamespaces)
        && Sysctls.SequenceEqual(other.Sysctls) && OvsEndpoint == other.OvsEndpoint
        && NamespaceInodes.Count == other.NamespaceInodes.Count
        && NamespaceInodes.All(p => other.NamespaceInodes.TryGetValue(p.Key, out ulong inode) && inode == p.Value);
}

/// <summary>
/// The result of <see cref="Planner.Plan"/>: plain data. <see cref="Changes"/> is what users read,
/// <see cref="Steps"/> the ordered kernel operations that carry them out, <see cref="Holdings"/> what
/// vnet owns afterwards.
/// </summary>
public sealed record Plan(
    string Instance,
    string? TopologyName,
    IReadOnlyList<PlannedChange> Changes,
    IReadOnlyList<KernelStep> Steps,
    IReadOnlyList<PlanConflict> Conflicts,
    IReadOnlyList<PlanProblem> Problems,
    IReadOnlyList<PlanObject> Objects,
    IReadOnlyList<LinkRef> VanishingLinks,
    Holdings Holdings)
{
    /// <summary>Something would change.</summary>
    public bool HasChanges => Changes.Count > 0;

    /// <summary>The problems that forbid applying.</summary>
    public IEnumerable<PlanProblem> Errors => Problems.Where(p => p.Severity == DiagnosticSeverity.Error);

    /// <summary>The problems that do not.</summary>
    public IEnumerable<PlanProblem> Warnings => Problems.Where(p => p.Severity == DiagnosticSeverity.Warning);

    /// <summary>False when a conflict or an error forbids touching anything.</summary>
    public bool CanApply => Conflicts.Count == 0 && !Errors.Any();

    /// <summary>How many changes do <paramref name="action"/>.</summary>
    public int Count(ChangeAction action) => Changes.Count(c => c.Action == action);
}
