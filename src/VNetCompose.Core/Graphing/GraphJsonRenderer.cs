using System.Text;
using System.Text.Json;

namespace VNetCompose.Core.Graphing;

/// <summary>
/// A <see cref="LabGraph"/> as JSON (<c>vnet graph -f json</c>), described by <c>schemas/graph.schema.json</c>:
/// <code>
/// { "topology": "docker0", "instance": "docker0", "live": false,
///   "groups": [ { "id": "ns:host", "name": "host", "netns": null, "state": "ok", "detail": "",
///                 "annotations": [ { "kind": "nat", "text": "masquerade ...", "state": "ok", "detail": "" } ] } ],
///   "nodes": [ { "id": "host/docker0", "group": "ns:host", "role": "switch", "name": "docker0", "kind": "bridge",
///                "addresses": ["172.17.0.1/16"], "attributes": [], "state": "ok", "detail": "" } ],
///   "edges": [ { "id": "veth:ubuntu1/eth0", "kind": "veth", "from": "stack:ubuntu1", "to": "host/docker0",
///                "from_end": { "interface": "eth0", "addresses": [...], "notes": [], "state": "ok", "detail": "" },
///                "to_end": { ... }, "annotations": [], "state": "ok", "detail": "" } ] }
/// </code>
/// </summary>
public static class GraphJsonRenderer
{
    /// <summary>The JSON document, indented, with a final newline.</summary>
    public static string Render(LabGraph graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteString("topology", graph.Topology);
            json.WriteString("instance", graph.Instance);
            json.WriteBoolean("live", graph.Live);
            json.WriteStartArray("groups");
            foreach (var group in graph.Groups)
            {
                json.WriteStartObject();
                json.WriteString("id", group.Id);
                json.WriteString("name", group.Name);
                json.WriteString("netns", group.Netns);
                WriteLive(json, group.Live);
                json.WriteStartArray("annotations");
                foreach (var note in group.Annotations)
                {
                    json.WriteStartObject();
                    json.WriteString("kind", note.Kind);
                    json.WriteString("text", note.Text);
                    WriteLive(json, note.Live);
                    json.WriteEndObject();
                }
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteStartArray("nodes");
            foreach (var node in graph.Nodes)
            {
                json.WriteStartObject();
                json.WriteString("id", node.Id);
                json.WriteString("group", node.Group);
                json.WriteString("role", node.Role.ToString().ToLowerInvariant());
                json.WriteString("name", node.Name);
                json.WriteString("kind", node.Kind);
                WriteStrings(json, "addresses", node.Addresses);
                WriteStrings(json, "attributes", node.Attributes);
                WriteLive(json, node.Live);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteStartArray("edges");
            foreach (var edge in graph.Edges)
            {
                json.WriteStartObject();
                json.WriteString("id", edge.Id);
                json.WriteString("kind", edge.Kind.ToString().ToLowerInvariant());
                json.WriteString("from", edge.From);
                json.WriteString("to", edge.To);
                WriteEnd(json, "from_end", edge.FromEnd);
                WriteEnd(json, "to_end", edge.ToEnd);
                WriteStrings(json, "annotations", edge.Annotations);
                WriteLive(json, edge.Live);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    private static void WriteEnd(Utf8JsonWriter json, string name, GraphEndpoint? end)
    {
        if (end is null)
        {
            json.WriteNull(name);
            return;
        }
        json.WriteStartObject(name);
        json.WriteString("interface", end.Interface);
        WriteStrings(json, "addresses", end.Addresses);
        WriteStrings(json, "notes", end.Notes);
        WriteLive(json, end.Live);
        json.WriteEndObject();
    }

    private static void WriteLive(Utf8JsonWriter json, ElementLiveState live)
    {
        json.WriteString("state", live.State.ToString().ToLowerInvariant());
        json.WriteString("detail", live.Detail);
    }

    private static void WriteStrings(Utf8JsonWriter json, string name, IEnumerable<string> values)
    {
        json.WriteStartArray(name);
        foreach (string value in values) json.WriteStringValue(value);
        json.WriteEndArray();
    }
}
