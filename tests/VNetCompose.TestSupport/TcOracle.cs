using System.Text.Json;

namespace VNetCompose.TestSupport;

/// <summary>A qdisc as <c>tc -j -s qdisc show</c> prints it (iproute2's view, the independent oracle).</summary>
/// <param name="Options">The kind's options as tc's JSON (tbf: rate in bytes/s, burst in bytes, lat in µs).</param>
public sealed record OracleQdisc(string Kind, string Handle, string? Parent, bool Root, JsonElement Options, long Backlog, long QueueLength);

/// <summary>An ingress filter's mirred action as <c>tc -j filter show dev X ingress</c> prints it.</summary>
public sealed record OracleRedirect(string Parent, int Priority, string Kind, string MirredAction, string Direction, string ToDevice, string? Cookie);

/// <summary>Reads qdiscs and filters through iproute2's tc, never through the code under test.</summary>
public static class TcOracle
{
    public static IReadOnlyList<OracleQdisc> Qdiscs(string ns, string link)
    {
        using var json = JsonDocument.Parse(ProcessRunner.RunChecked("tc", "-n", ns, "-j", "-s", "qdisc", "show", "dev", link));
        return json.RootElement.EnumerateArray().Select(q => new OracleQdisc(
            q.GetProperty("kind").GetString()!,
            q.GetProperty("handle").GetString()!,
            q.TryGetProperty("parent", out var parent) ? parent.GetString() : null,
            q.TryGetProperty("root", out var root) && root.GetBoolean(),
            q.TryGetProperty("options", out var options) ? options.Clone() : default,
            q.TryGetProperty("backlog", out var backlog) ? backlog.GetInt64() : 0,
            q.TryGetProperty("qlen", out var qlen) ? qlen.GetInt64() : 0)).ToList();
    }

    public static OracleQdisc? Root(string ns, string link) => Qdiscs(ns, link).FirstOrDefault(q => q.Root);

    public static OracleQdisc? Ingress(string ns, string link) => Qdiscs(ns, link).FirstOrDefault(q => q.Parent == "ffff:fff1");

    public static IReadOnlyList<OracleRedirect> IngressRedirects(string ns, string link)
    {
        using var json = JsonDocument.Parse(ProcessRunner.RunChecked("tc", "-n", ns, "-j", "filter", "show", "dev", link, "ingress"));
        var result = new List<OracleRedirect>();
        foreach (var filter in json.RootElement.EnumerateArray())
        {
            if (!filter.TryGetProperty("options", out var options) || !options.TryGetProperty("actions", out var actions)) continue;
            foreach (var action in actions.EnumerateArray())
            {
                result.Add(new OracleRedirect(
                    filter.GetProperty("parent").GetString()!,
                    filter.GetProperty("pref").GetInt32(),
                    action.GetProperty("kind").GetString()!,
                    action.TryGetProperty("mirred_action", out var m) ? m.GetString()! : "",
                    action.TryGetProperty("direction", out var d) ? d.GetString()! : "",
                    action.TryGetProperty("to_dev", out var to) ? to.GetString()! : "",
                    action.TryGetProperty("cookie", out var cookie) ? cookie.GetString() : null));
            }
        }
        return result;
    }
}
