using System.Globalization;
using System.Text;
using System.Text.Json;
using VNetCompose.Core.Watching;

namespace VNetCompose.Core.Rendering;

/// <summary>
/// <c>vnet watch</c> output. Text: one line per object, each after the local time of the report
/// (<c>12:03:04.512 drifted link net0/eth0: mtu 1500 -> 1280</c>), and <c>ok</c> when the lab matches the
/// topology again. JSON: one object per event, on one line (stable shape; fields are never renamed):
/// <code>
/// { "time": "2026-11-24T12:03:04.512+01:00",
///   "event": "started|drift|vnet|healed|not_healed",
///   "ok": true,                              // every object matches the topology (not for not_healed)
///   "lines": [ { "state": "ok|missing|drifted|foreign", "kind": "link", "object": "link net0/eth0",
///                "detail": "mtu 1500 -> 1280", "notice": false, "text": "drifted link net0/eth0: mtu 1500 -> 1280" } ],
///   // started: "instance", "objects", "namespaces"; drift: "latency_ms" (first kernel event to report),
///   //   "warnings" and "warnings_gone" (the plan's warnings that came or went with the change);
///   // vnet: "command" ("up"|"down"|"heal"), "objects_changed"; healed: "changes", "kernel_writes", "duration_ms";
///   // not_healed: "reason"
/// }
/// </code>
/// </summary>
public static class WatchRenderer
{
    /// <summary>The lines <c>vnet watch</c> prints for <paramref name="e"/>, each with its time, newline-terminated.</summary>
    public static string Text(WatchEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        string at = e.Time.ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture) + " ";
        var text = new StringBuilder();
        void Line(string s) => text.Append(at).Append(s).Append('\n');
        void Lines(IEnumerable<DriftLine> lines, bool ok)
        {
            foreach (var line in lines) Line(line.Text);
            if (ok) Line("ok");
        }
        switch (e)
        {
            case WatchStarted s:
                Line($"watching {s.Instance}: {Count(s.Objects, "object")} in {Count(s.Namespaces, "namespace")}");
                Lines(s.Drift, s.Ok);
                break;
            case DriftReported d:
                foreach (var warning in d.Warnings) Line("warning: " + warning);
                foreach (var gone in d.WarningsGone) Line("warning gone: " + gone);
                Lines(d.Lines, d.Ok && d.StatusChanged);
                break;
            case ChangedByVnet v:
                Line(v.Command switch
                {
                    "down" => $"vnet down (another process) removed the lab: {Count(v.ObjectsChanged, "object")} changed",
                    "heal" => $"healed by another vnet watch: {Count(v.ObjectsChanged, "object")} changed",
                    _ => $"vnet up (another process): {Count(v.ObjectsChanged, "object")} changed",
                });
                Lines(v.Drift, v.Ok);
                break;
            case Healed h:
                Line($"healed {Count(h.Changes, "change")} with {Count(h.KernelWrites, "kernel write")} in {Milliseconds(h.Duration)} ms");
                Lines(h.Remaining, h.Ok);
                break;
            case NotHealed n:
                Line($"not healed: {n.Reason}");
                break;
        }
        return text.ToString();
    }

    /// <summary>The JSON line <c>vnet watch -o json</c> prints for <paramref name="e"/> (the shape above), without a newline.</summary>
    public static string Json(WatchEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteString("time", e.Time.ToString("yyyy-MM-ddTHH:mm:ss.fffzzz", CultureInfo.InvariantCulture));
            json.WriteString("event", e switch
            {
                WatchStarted => "started",
                DriftReported => "drift",
                ChangedByVnet => "vnet",
                Healed => "healed",
                _ => "not_healed",
            });
            WriteFields(json, e);
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    private static void WriteFields(Utf8JsonWriter json, WatchEvent e)
    {
        switch (e)
        {
            case WatchStarted s:
                json.WriteString("instance", s.Instance);
                json.WriteNumber("objects", s.Objects);
                json.WriteNumber("namespaces", s.Namespaces);
                WriteLines(json, s.Drift, s.Ok);
                break;
            case DriftReported d:
                json.WriteNumber("latency_ms", Math.Round(d.Latency.TotalMilliseconds, 3));
                WriteLines(json, d.Lines, d.Ok);
                WriteStrings(json, "warnings", d.Warnings);
                WriteStrings(json, "warnings_gone", d.WarningsGone);
                break;
            case ChangedByVnet v:
                json.WriteString("command", v.Command);
                json.WriteNumber("objects_changed", v.ObjectsChanged);
                WriteLines(json, v.Drift, v.Ok);
                break;
            case Healed h:
                json.WriteNumber("changes", h.Changes);
                json.WriteNumber("kernel_writes", h.KernelWrites);
                json.WriteNumber("duration_ms", Math.Round(h.Duration.TotalMilliseconds, 3));
                WriteLines(json, h.Remaining, h.Ok);
                break;
            case NotHealed n:
                json.WriteString("reason", n.Reason);
                break;
        }
    }

    private static void WriteLines(Utf8JsonWriter json, IReadOnlyList<DriftLine> lines, bool ok)
    {
        json.WriteBoolean("ok", ok);
        json.WriteStartArray("lines");
        foreach (var line in lines)
        {
            json.WriteStartObject();
            json.WriteString("state", line.StateText);
            json.WriteString("kind", line.Kind);
            json.WriteString("object", line.Object.ToString());
            PlanJsonRenderer.WriteIdentity(json, line.Object);
            json.WriteString("detail", line.Detail);
            json.WriteBoolean("notice", line.IsNotice);
            json.WriteString("text", line.Text);
            json.WriteEndObject();
        }
        json.WriteEndArray();
    }

    private static void WriteStrings(Utf8JsonWriter json, string name, IReadOnlyList<string> values)
    {
        json.WriteStartArray(name);
        foreach (var value in values) json.WriteStringValue(value);
        json.WriteEndArray();
    }

    private static string Count(int n, string noun) => PlanTextRenderer.Count(n, noun);

    private static string Milliseconds(TimeSpan t) => t.TotalMilliseconds.ToString("F0", CultureInfo.InvariantCulture);
}
