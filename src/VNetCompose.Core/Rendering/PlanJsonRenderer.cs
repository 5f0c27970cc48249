using System.Text;
using System.Text.Json;
using VNetCompose.Core.Planning;
using VNetCompose.Model;

namespace VNetCompose.Core.Rendering;

/// <summary>
/// The machine form of a plan (<c>vnet plan -o json</c>). Shape (stable; fields are never renamed):
/// <code>
/// {
///   "instance": "lab",                 // prefix + topology name
///   "topology": "lab",                 // null for a teardown plan
///   "summary": { "create": 1, "change": 0, "delete": 0, "replace": 0,
///                "conflicts": 0, "errors": 0, "warnings": 0 },
///   "changes": [ { "action": "create|change|delete|replace",
///                  "kind": "namespace|link|veth|address|route|sysctl|nat_rule|nat_table",
///                  "object": "link net0/eth0",
///                  "namespace": "net0", "name": "eth0", "fields": { ... },   // the object's identity
///                  "attributes": [ { "name": "mtu", "before": "1500", "after": "9000" } ],
///                  "reason": null } ],
///   "conflicts": [ { "kind": "link", "object": "link host/eth0", "detail": "...",
///                    "location": { "file": "t.yaml", "line": 3, "column": 5, "key": "veths[0].b" } } ],
///   "problems": [ { "severity": "error|warning", "message": "...", "location": null } ]
/// }
/// </code>
/// </summary>
public static class PlanJsonRenderer
{
    /// <summary>The plan as one JSON document (<c>vnet plan -o json</c>).</summary>
    public static string Render(Plan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteString("instance", plan.Instance);
            json.WriteString("topology", plan.TopologyName);
            json.WriteStartObject("summary");
            json.WriteNumber("create", plan.Count(ChangeAction.Create));
            json.WriteNumber("change", plan.Count(ChangeAction.Change));
            json.WriteNumber("delete", plan.Count(ChangeAction.Delete));
            json.WriteNumber("replace", plan.Count(ChangeAction.Replace));
            json.WriteNumber("conflicts", plan.Conflicts.Count);
            json.WriteNumber("errors", plan.Errors.Count());
            json.WriteNumber("warnings", plan.Warnings.Count());
            json.WriteEndObject();

            json.WriteStartArray("changes");
            foreach (var change in plan.Changes)
            {
                json.WriteStartObject();
                json.WriteString("action", change.Action.ToString().ToLowerInvariant());
                json.WriteString("kind", change.Kind);
                json.WriteString("object", change.Object.ToString());
                WriteIdentity(json, change.Object);
                json.WriteStartArray("attributes");
                foreach (var a in change.Attributes)
                {
                    json.WriteStartObject();
                    json.WriteString("name", a.Name);
                    json.WriteString("before", a.Before);
                    json.WriteString("after", a.After);
                    json.WriteEndObject();
                }
                json.WriteEndArray();
                json.WriteString("reason", change.Reason);
                json.WriteEndObject();
            }
            json.WriteEndArray();

            json.WriteStartArray("conflicts");
            foreach (var conflict in plan.Conflicts)
            {
                json.WriteStartObject();
                json.WriteString("kind", conflict.Kind);
                json.WriteString("object", conflict.Object.ToString());
                WriteIdentity(json, conflict.Object);
                json.WriteString("detail", conflict.Detail);
                WriteLocation(json, conflict.Location);
                json.WriteEndObject();
            }
            json.WriteEndArray();

            json.WriteStartArray("problems");
            foreach (var problem in plan.Problems)
            {
                json.WriteStartObject();
                json.WriteString("severity", problem.Severity == DiagnosticSeverity.Error ? "error" : "warning");
                json.WriteString("message", problem.Message);
                WriteLocation(json, problem.Location);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    /// <summary>The object's identity as fields: namespace, name and the kind's key fields.</summary>
    internal static void WriteIdentity(Utf8JsonWriter json, ObjectAddress address)
    {
        json.WriteString("namespace", Ownership.Display(address.Namespace));
        json.WriteString("name", address.Name);
        if (address.Fields.Count == 0) return;
        json.WriteStartObject("fields");
        foreach (var (key, value) in address.Fields) json.WriteString(key, value);
        json.WriteEndObject();
    }

    internal static void WriteLocation(Utf8JsonWriter json, SourceLocation? location)
    {
        if (location is null)
        {
            json.WriteNull("location");
            return;
        }
        json.WriteStartObject("location");
        json.WriteString("file", location.File);
        json.WriteNumber("line", location.Line);
        json.WriteNumber("column", location.Column);
        json.WriteString("key", location.KeyPath);
        json.WriteEndObject();
    }
}
