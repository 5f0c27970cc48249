using System.Text.Json;
using System.Text.Json.Nodes;

namespace VNetCompose.Ovsdb.Tests;

/// <summary>One request/reply pair exchanged with a real ovsdb-server (Recorded/NAME.json, made by record.py).</summary>
public sealed record Recorded(string Name, JsonObject Request, string ReplyText, IReadOnlyList<JsonObject> Notifications)
{
    public static Recorded Load(string name)
    {
        string path = Path.Combine(AppContext.BaseDirectory, "Recorded", name + ".json");
        var root = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        return new Recorded(name, root["request"]!.AsObject(), root["reply_text"]!.GetValue<string>(),
            [.. root["notifications"]!.AsArray().Select(n => n!.AsObject())]);
    }

    /// <summary>The recorded request's params.</summary>
    public JsonArray Params => Request["params"]!.AsArray();

    /// <summary>The reply's result element.</summary>
    public JsonElement Result => JsonDocument.Parse(ReplyText).RootElement.GetProperty("result").Clone();
}
