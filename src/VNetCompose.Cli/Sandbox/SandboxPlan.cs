using System.Text.Json;

namespace VNetCompose.Cli.Sandbox;

/// <summary>A <c>--publish</c> and the descriptors of its listening sockets, as the sandbox's init inherits them.</summary>
internal sealed record PublishedPort(PublishSpec Spec, IReadOnlyList<int> Descriptors);

/// <summary>
/// What the sandbox's init is to do once its namespaces exist, sent by <c>vnet sandbox</c> over a pipe (one JSON
/// line) when the outside is ready (the record written, pasta attached): the command (empty: the user's shell),
/// the name, the ports to publish and whether pasta provides an uplink.
/// </summary>
internal sealed record SandboxPlan(string? Name, IReadOnlyList<string> Command, IReadOnlyList<PublishedPort> Publish, bool Uplink)
{
    public byte[] ToJsonLine()
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            if (Name is not null) json.WriteString("name", Name);
            json.WriteStartArray("command");
            foreach (string word in Command) json.WriteStringValue(word);
            json.WriteEndArray();
            json.WriteStartArray("publish");
            foreach (var port in Publish)
            {
                json.WriteStartObject();
                json.WriteString("spec", port.Spec.ToString());
                json.WriteStartArray("fds");
                foreach (int fd in port.Descriptors) json.WriteNumberValue(fd);
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteBoolean("uplink", Uplink);
            json.WriteEndObject();
        }
        return [.. buffer.WrittenSpan, (byte)'\n'];
    }

    public static SandboxPlan FromJson(string line)
    {
        using var document = JsonDocument.Parse(line);
        var root = document.RootElement;
        var publish = new List<PublishedPort>();
        foreach (var port in root.GetProperty("publish").EnumerateArray())
        {
            var spec = PublishSpec.Parse(port.GetProperty("spec").GetString() ?? "", out string? error);
            if (error is not null) throw new FormatException(error);
            publish.Add(new PublishedPort(spec, port.GetProperty("fds").EnumerateArray().Select(f => f.GetInt32()).ToList()));
        }
        return new SandboxPlan(
            root.TryGetProperty("name", out var name) ? name.GetString() : null,
            root.GetProperty("command").EnumerateArray().Select(w => w.GetString() ?? "").ToList(),
            publish,
            root.GetProperty("uplink").GetBoolean());
    }
}
