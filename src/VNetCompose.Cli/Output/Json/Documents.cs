using System.Text.Json;
using VNetCompose.Core;
using VNetCompose.Core.Apply;
using VNetCompose.Core.Planning;
using VNetCompose.Model;

namespace VNetCompose.Cli.Output.Json;

// The -o json documents of ls, validate, up, down and status; schemas/<command>.schema.json describes each.
// Fields are added, never renamed. A plan is embedded as PlanJsonRenderer writes it (schemas/plan.schema.json).

/// <summary><c>vnet ls -o json</c>.</summary>
/// <param name="Errors">State files that could not be read: the instance their name gives and why.</param>
internal sealed record LsDocument(IReadOnlyList<InstanceJson> Instances, IReadOnlyList<InstanceErrorJson> Errors);

/// <param name="Namespaces">Kernel names of the named namespaces the instance uses.</param>
/// <param name="CreatedNamespaces">Those vnet created (and <c>down</c> deletes).</param>
/// <param name="UsesCurrentNamespace">The namespace vnet runs in holds objects of the instance.</param>
/// <param name="File">The topology file it was brought up from (absolute), when known.</param>
internal sealed record InstanceJson(
    string Instance,
    string Topology,
    string? Prefix,
    string? HostNetns,
    IReadOnlyList<string> Namespaces,
    IReadOnlyList<string> CreatedNamespaces,
    bool UsesCurrentNamespace,
    DateTimeOffset UpdatedAt,
    string? File);

/// <summary><c>vnet validate -o json</c>.</summary>
internal sealed record ValidateDocument(bool Valid, IReadOnlyList<ValidatedFileJson> Files);

/// <param name="Valid">No error (and, with --strict, no warning).</param>
/// <param name="Summary">What the file declares; null when it does not load.</param>
/// <param name="Omitted">Diagnostics left out of <paramref name="Diagnostics"/> (the loader keeps at most 1,000 of each severity).</param>
internal sealed record ValidatedFileJson(string File, bool Valid, TopologySummaryJson? Summary, IReadOnlyList<DiagnosticJson> Diagnostics, int Omitted);

/// <param name="OtherLinks">Links of other kinds (<c>links:</c> entries that are not bridges or taps).</param>
internal sealed record TopologySummaryJson(string Name, int Namespaces, int Bridges, int VethPairs, int Taps, int OtherLinks, int NatRules)
{
    public static TopologySummaryJson Of(Topology t) =>
        new(t.Name, t.Namespaces.Count, t.Bridges.Count(), t.Veths.Count, t.Taps.Count(), t.Links.Count - t.Bridges.Count() - t.Taps.Count(), t.Nat.Count);
}

/// <param name="Line">1-based; null for a problem with the file as a whole (unreadable, empty).</param>
/// <param name="Key">The key path, <c>veths[0].a.addresses[1]</c>; empty for the file as a whole.</param>
internal sealed record DiagnosticJson(string File, int? Line, int? Column, string Key, string Severity, string Message)
{
    public static DiagnosticJson Of(Diagnostic d) => new(d.File, d.Line > 0 ? d.Line : null, d.Line > 0 ? d.Column : null,
        d.KeyPath, SeverityName(d.Severity), d.Message);

    public static string SeverityName(DiagnosticSeverity severity) => severity == DiagnosticSeverity.Error ? "error" : "warning";
}

/// <summary><c>vnet up -o json</c> and <c>vnet down -o json</c>: the plan applied and what came of it.</summary>
/// <param name="Status">up: applied, unchanged, refused, failed, not_converged, interrupted; down: removed, nothing_to_do, refused, failed, not_converged, interrupted.</param>
/// <param name="KernelWrites">Mutating kernel calls this run made (a rollback's included).</param>
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

/// <param name="Object">The object as users read it: <c>link demo/docker0</c>.</param>
/// <param name="State">ok, missing, drifted or foreign.</param>
/// <param name="Namespace">The object's identity: its namespace, its name within kind and namespace, and the kind's key fields.</param>
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
