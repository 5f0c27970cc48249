using System.Text.Json;
using VNetCompose.Core;
using VNetCompose.Core.Apply;
using VNetCompose.Core.Planning;
using VNetCompose.Core.State;
using VNetCompose.Model;

namespace VNetCompose.Cli.Output.Json;

// The -o json documents of ls, gc, validate, up, down and status; schemas/<command>.schema.json describes each.
// Fields are added, never renamed. A plan is embedded as PlanJsonRenderer writes it (schemas/plan.schema.json).

/// <summary><c>vnet ls -o json</c>.</summary>
/// <param name="Instances">The instances whose state file was read.</param>
/// <param name="Errors">State files that could not be read: the instance their name gives and why.</param>
internal sealed record LsDocument(IReadOnlyList<InstanceJson> Instances, IReadOnlyList<InstanceErrorJson> Errors);

/// <param name="Instance">Prefix + topology name; what <c>--name</c> takes.</param>
/// <param name="Topology">The topology's name.</param>
/// <param name="Prefix">The <c>--prefix</c> it was brought up with.</param>
/// <param name="HostNetns">The namespace <c>host</c> is mapped to; null for the namespace vnet runs in.</param>
/// <param name="Namespaces">Kernel names of the named namespaces the instance uses.</param>
/// <param name="CreatedNamespaces">Those vnet created (and <c>down</c> deletes).</param>
/// <param name="UsesCurrentNamespace">The namespace vnet runs in holds objects of the instance.</param>
/// <param name="UpdatedAt">When the state file was last written.</param>
/// <param name="File">The topology file it was brought up from (absolute), when known.</param>
/// <param name="Owner">The process a test fixture's lab belongs to; null for labs of <c>vnet up</c>.</param>
internal sealed record InstanceJson(
    string Instance,
    string Topology,
    string? Prefix,
    string? HostNetns,
    IReadOnlyList<string> Namespaces,
    IReadOnlyList<string> CreatedNamespaces,
    bool UsesCurrentNamespace,
    DateTimeOffset UpdatedAt,
    string? File,
    OwnerJson? Owner);

/// <param name="Pid">The owner's process id (in its pid namespace).</param>
/// <param name="Alive">Whether it still runs; null when vnet cannot tell (another pid namespace).</param>
internal sealed record OwnerJson(int Pid, bool? Alive)
{
    public static OwnerJson Of(LabOwner owner) => new(owner.Pid, owner.Liveness() switch
    {
        OwnerLiveness.Alive => true,
        OwnerLiveness.Dead => false,
        _ => null,
    });
}

/// <summary><c>vnet gc -o json</c>: the labs of dead fixture processes it removed (or, with <c>--dry-run</c>, would remove).</summary>
/// <param name="DryRun">Only listed, nothing removed.</param>
/// <param name="Labs">One entry per lab whose owner is dead.</param>
internal sealed record GcDocument(bool DryRun, IReadOnlyList<GcLabJson> Labs);

/// <param name="Instance">The lab's instance name.</param>
/// <param name="Owner">The dead process it belonged to.</param>
/// <param name="Removed">It was removed (false with <c>--dry-run</c>, or when removing it failed).</param>
/// <param name="Error">Why it was not removed; null when it was, or with <c>--dry-run</c>.</param>
internal sealed record GcLabJson(string Instance, OwnerJson Owner, bool Removed, string? Error);

/// <summary><c>vnet validate -o json</c>.</summary>
internal sealed record ValidateDocument(bool Valid, IReadOnlyList<ValidatedFileJson> Files);

/// <param name="File">The file as given.</param>
/// <param name="Valid">No error (and, with --strict, no warning).</param>
/// <param name="Summary">What the file declares; null when it does not load.</param>
/// <param name="Diagnostics">Its errors and warnings.</param>
/// <param name="Omitted">Diagnostics left out of <paramref name="Diagnostics"/> (the loader keeps at most 1,000 of each severity).</param>
internal sealed record ValidatedFileJson(string File, bool Valid, TopologySummaryJson? Summary, IReadOnlyList<DiagnosticJson> Diagnostics, int Omitted);

/// <param name="Name">The topology's name.</param>
/// <param name="Namespaces">Declared namespaces.</param>
/// <param name="Bridges">Bridges (<c>bridges:</c> and <c>links:</c> entries of kind bridge).</param>
/// <param name="VethPairs">Veth pairs.</param>
/// <param name="Taps">Taps and tuns.</param>
/// <param name="OtherLinks">Links of other kinds (<c>links:</c> entries that are not bridges or taps).</param>
/// <param name="NatRules">NAT rules.</param>
internal sealed record TopologySummaryJson(string Name, int Namespaces, int Bridges, int VethPairs, int Taps, int OtherLinks, int NatRules)
{
    public static TopologySummaryJson Of(Topology t) =>
        new(t.Name, t.Namespaces.Count, t.Bridges.Count(), t.Veths.Count, t.Taps.Count(), t.Links.Count - t.Bridges.Count() - t.Taps.Count(), t.Nat.Count);
}

/// <param name="File">The file it is about.</param>
/// <param name="Line">1-based; null for a problem with the file as a whole (unreadable, empty).</param>
/// <param name="Column">1-based; null when <paramref name="Line"/> is.</param>
/// <param name="Key">The key path, <c>veths[0].a.addresses[1]</c>; empty for the file as a whole.</param>
/// <param name="Severity"><c>error</c> or <c>warning</c>.</param>
/// <param name="Message">What is wrong, in one line.</param>
internal sealed record DiagnosticJson(string File, int? Line, int? Column, string Key, string Severity, string Message)
{
    public static DiagnosticJson Of(Diagnostic d) => new(d.File, d.Line > 0 ? d.Line : null, d.Line > 0 ? d.Column : null,
        d.KeyPath, SeverityName(d.Severity), d.Message);

    public static string SeverityName(DiagnosticSeverity severity) => severity == DiagnosticSeverity.Error ? "error" : "warning";
}

/// <summary><c>vnet up -o json</c> and <c>vnet down -o json</c>: the plan applied and what came of it.</summary>
/// <param name="Instance">The instance applied to.</param>
/// <param name="Status">up: applied, unchanged, refused, failed, not_converged, interrupted; down: removed, nothing_to_do, refused, failed, not_converged, interrupted.</param>
/// <param name="Plan">The plan applied, as <c>vnet plan -o json</c> writes it.</param>
/// <param name="KernelWrites">Mutating kernel calls this run made (a rollback's included).</param>
/// <param name="DurationMs">How long the command took.</param>
/// <param name="NotReady">up only: links that were not operationally up within the readiness wait.</param>
/// <param name="Failure">The step that failed, when one did.</param>
/// <param name="Remaining">What still differs after applying (not_converged), as a plan.</param>
internal sealed record ApplyDocument(
    string Instance,
    string Status,
    JsonElement Plan,
    int KernelWrites,
    long DurationMs,
    IReadOnlyList<string> NotReady,
    FailureJson? Failure,
    JsonElement? Remaining);

/// <param name="Step">The failing step, described.</param>
/// <param name="Message">The kernel's (or Open vSwitch's) words.</param>
/// <param name="RolledBack">What the run did was undone (up without --no-rollback).</param>
/// <param name="RollbackErrors">Undo steps that failed in turn.</param>
internal sealed record FailureJson(string Step, string Message, bool RolledBack, IReadOnlyList<string> RollbackErrors)
{
    public static FailureJson? Of(ApplyOutcome? outcome) => outcome?.Failure is { } f
        ? new FailureJson(f.Step.Describe(), f.Error.Message, outcome.RolledBack, outcome.RollbackErrors)
        : null;
}

/// <summary><c>vnet down --all -o json</c>: one <see cref="ApplyDocument"/> per instance, plus those that could not be read.</summary>
internal sealed record DownAllDocument(IReadOnlyList<ApplyDocument> Instances, IReadOnlyList<InstanceErrorJson> Errors);

internal sealed record InstanceErrorJson(string Instance, string Message);

/// <summary><c>vnet status -o json</c>.</summary>
internal sealed record StatusDocument(string Instance, bool AllOk, IReadOnlyList<StatusObjectJson> Objects, IReadOnlyList<ProblemJson> Problems);

/// <param name="Kind">The object class: <c>link</c>, <c>address</c>, <c>route</c>, ...</param>
/// <param name="Object">The object as users read it: <c>link demo/docker0</c>.</param>
/// <param name="State">ok, missing, drifted or foreign.</param>
/// <param name="Detail">The difference, for a drifted object.</param>
/// <param name="Namespace">The object's identity: its namespace, its name within kind and namespace, and the kind's key fields.</param>
/// <param name="Name">Its name within kind and namespace.</param>
/// <param name="Fields">The kind's key fields; omitted when it has none.</param>
internal sealed record StatusObjectJson(string Kind, string Object, string State, string Detail, string Namespace, string Name,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    IReadOnlyDictionary<string, string>? Fields)
{
    public static StatusObjectJson Of(StatusRow row, string state) => new(row.Kind, row.Object.ToString(), state, row.Detail,
        Ownership.Display(row.Object.Namespace), row.Object.Name,
        row.Object.Fields.Count == 0 ? null : row.Object.Fields.ToDictionary(f => f.Key, f => f.Value));
}

internal sealed record ProblemJson(string Severity, string Message, LocationJson? Location)
{
    public static ProblemJson Of(PlanProblem p) => new(DiagnosticJson.SeverityName(p.Severity), p.Message, LocationJson.Of(p.Location));
}

internal sealed record LocationJson(string File, int Line, int Column, string Key)
{
    public static LocationJson? Of(SourceLocation? l) => l is null ? null : new(l.File, l.Line, l.Column, l.KeyPath);
}
