using System.Globalization;
using System.Text.Json;
using VNetCompose.Kernel;

namespace VNetCompose.TestSupport;

/// <summary>A base chain as <c>nft -j list table</c> prints it.</summary>
public sealed record OracleChain(string Name, string? Type, string? Hook, int? Priority, string? Policy);

/// <summary>
/// A NAT rule as <c>nft -j list table</c> prints it, reduced to the NAT vocabulary: every field is the
/// text nft shows ("172.17.0.0/16", "!=docker0", "tcp"). Expressions outside the vocabulary land in
/// <see cref="Other"/>, so a rule with an unexpected expression never equals an expected one.
/// </summary>
public sealed record OracleNatRule(
    string Chain,
    string? Comment,
    string Verdict,
    string? Source = null,
    string? Destination = null,
    string? InInterface = null,
    string? OutInterface = null,
    string? Protocol = null,
    int? DestinationPort = null,
    string? To = null,
    int? ToPort = null,
    string Other = "")
{
    /// <summary>What nft should show for a rule vnet wrote.</summary>
    public static OracleNatRule Expected(NatRuleState rule) => new(
        rule.Chain.ToString().ToLowerInvariant(),
        rule.Describe(),
        rule.Verdict switch { NatVerdictKind.Masquerade => "masquerade", NatVerdictKind.Snat => "snat", _ => "dnat" },
        rule.Source?.ToString(),
        rule.Destination?.ToString(),
        rule.InInterface is { } iif ? (iif.Negated ? "!=" : "==") + iif.Name : null,
        rule.OutInterface is { } oif ? (oif.Negated ? "!=" : "==") + oif.Name : null,
        rule.L4Protocol switch { null => null, 6 => "tcp", 17 => "udp", var p => p.Value.ToString(CultureInfo.InvariantCulture) },
        rule.DestinationPort,
        rule.ToAddress?.ToString(),
        rule.ToPort);
}

/// <summary>The independent view of nftables for tests: <c>nft -j</c> run inside a sandbox namespace.</summary>
public static class NftOracle
{
    /// <summary>The table's chains and rules; null when nft says the table does not exist.</summary>
    public static (IReadOnlyList<OracleChain> Chains, IReadOnlyList<OracleNatRule> Rules, string? Comment)? Table(string ns, string table)
    {
        var result = ProcessRunner.Run("ip", "netns", "exec", ns, "nft", "-j", "list", "table", "inet", table);
        if (!result.Succeeded)
        {
            if (result.StandardError.Contains("No such file or directory", StringComparison.Ordinal)) return null;
            result.EnsureSuccess();
        }
        using var document = JsonDocument.Parse(result.StandardOutput);
        var chains = new List<OracleChain>();
        var rules = new List<OracleNatRule>();
        foreach (var item in document.RootElement.GetProperty("nftables").EnumerateArray())
        {
            if (item.TryGetProperty("chain", out var c))
            {
                chains.Add(new OracleChain(c.GetProperty("name").GetString()!, Text(c, "type"), Text(c, "hook"),
                    c.TryGetProperty("prio", out var prio) ? prio.GetInt32() : null, Text(c, "policy")));
            }
            if (item.TryGetProperty("rule", out var r)) rules.Add(ParseRule(r));
        }
        return (chains, rules, TableComment(ns, table));
    }

    /// <summary>The table's comment from the text listing: nft 1.0.6 leaves table comments out of its JSON.</summary>
    private static string? TableComment(string ns, string table)
    {
        string text = ProcessRunner.RunChecked("ip", "netns", "exec", ns, "nft", "list", "table", "inet", table);
        const string prefix = "\tcomment \"";
        var line = text.Split('\n').FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal));
        return line?[prefix.Length..].TrimEnd('"');
    }

    /// <summary><c>nft list tables</c> inside the namespace: "inet vnet-x", "ip filter", ...</summary>
    public static IReadOnlyList<string> Tables(string ns) =>
        ProcessRunner.RunChecked("ip", "netns", "exec", ns, "nft", "list", "tables")
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => line.StartsWith("table ", StringComparison.Ordinal) ? line["table ".Length..] : line)
            .ToList();

    /// <summary>Runs an nft command line inside the namespace (a hand edit) and fails the test if nft does.</summary>
    public static void Run(string ns, string command) =>
        ProcessRunner.Run("ip", ["netns", "exec", ns, "nft", command], ProcessRunner.DefaultTimeout).EnsureSuccess();

    /// <summary>Loads a ruleset file with <c>nft -f</c> inside the namespace.</summary>
    public static CommandResult Load(string ns, string path) =>
        ProcessRunner.Run("ip", ["netns", "exec", ns, "nft", "-f", path], ProcessRunner.DefaultTimeout);

    /// <summary>The handles of the table's rules in one chain, in order (<c>nft -a</c>).</summary>
    public static IReadOnlyList<long> RuleHandles(string ns, string table, string chain)
    {
        string output = ProcessRunner.RunChecked("ip", "netns", "exec", ns, "nft", "-j", "list", "chain", "inet", table, chain);
        using var document = JsonDocument.Parse(output);
        return document.RootElement.GetProperty("nftables").EnumerateArray()
            .Where(i => i.TryGetProperty("rule", out _))
            .Select(i => i.GetProperty("rule").GetProperty("handle").GetInt64())
            .ToList();
    }

    private static OracleNatRule ParseRule(JsonElement rule)
    {
        string chain = rule.GetProperty("chain").GetString()!;
        string? comment = Text(rule, "comment");
        string verdict = "";
        string? source = null, destination = null, iif = null, oif = null, protocol = null, to = null;
        int? port = null, toPort = null;
        var other = new List<string>();
        foreach (var expression in rule.GetProperty("expr").EnumerateArray())
        {
            if (expression.TryGetProperty("match", out var match))
            {
                string op = match.GetProperty("op").GetString()!;
                var left = match.GetProperty("left");
                var right = match.GetProperty("right");
                if (left.TryGetProperty("payload", out var payload) && payload.TryGetProperty("field", out var field))
                {
                    string proto = payload.GetProperty("protocol").GetString()!;
                    string fieldName = field.GetString()!;
                    if (op == "==" && proto is ("ip" or "ip6") && fieldName == "saddr") source = Network(right, proto);
                    else if (op == "==" && proto is ("ip" or "ip6") && fieldName == "daddr") destination = Network(right, proto);
                    else if (op == "==" && fieldName == "dport" && right.ValueKind == JsonValueKind.Number)
                    {
                        port = right.GetInt32();
                        if (proto != "th") protocol = proto;
                    }
                    else other.Add(match.ToString());
                }
                else if (left.TryGetProperty("meta", out var meta))
                {
                    string key = meta.GetProperty("key").GetString()!;
                    if (key == "iifname") iif = op + right.GetString();
                    else if (key == "oifname") oif = op + right.GetString();
                    else if (key == "l4proto" && op == "==") protocol = right.ToString();
                    else if (key == "nfproto" && op == "==") { } // the family dependency nft may show or hide
                    else other.Add(match.ToString());
                }
                else other.Add(match.ToString());
            }
            else if (expression.TryGetProperty("masquerade", out var masquerade) && masquerade.ValueKind == JsonValueKind.Null)
            {
                verdict = "masquerade";
            }
            else if (expression.TryGetProperty("snat", out var snat)) (verdict, to, toPort) = ("snat", Text(snat, "addr"), Port(snat));
            else if (expression.TryGetProperty("dnat", out var dnat)) (verdict, to, toPort) = ("dnat", Text(dnat, "addr"), Port(dnat));
            else other.Add(expression.ToString());
        }
        return new OracleNatRule(chain, comment, verdict, source, destination, iif, oif, protocol, port, to, toPort,
            string.Join(" ", other));
    }

    private static string Network(JsonElement right, string protocol)
    {
        if (right.ValueKind == JsonValueKind.String) return $"{right.GetString()}/{(protocol == "ip" ? 32 : 128)}";
        var prefix = right.GetProperty("prefix");
        return $"{prefix.GetProperty("addr").GetString()}/{prefix.GetProperty("len").GetInt32()}";
    }

    private static int? Port(JsonElement nat) => nat.TryGetProperty("port", out var port) ? port.GetInt32() : null;

    private static string? Text(JsonElement element, string property) =>
        element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
