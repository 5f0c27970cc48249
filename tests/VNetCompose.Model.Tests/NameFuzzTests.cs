using System.Globalization;
using System.Text;

namespace VNetCompose.Model.Tests;

/// <summary>
/// Names with control characters, line ends, invisible and non-ASCII characters and every length, put where a
/// topology names things (its own name, a namespace, an interface, a reference) and given to <see cref="NameRules"/>
/// (the CLI's --name, --prefix and --host-netns): a name reaches the model only when an independent oracle says
/// it follows the format, and every refusal is one printable line.
/// </summary>
public sealed class NameFuzzTests
{
    private const int Seed = 20261130;
    private const int Iterations = 3000;

    private static readonly string[] Pieces =
    [
        "a", "z", "q", "0", "9", "-", "_", ".", "..", "A", "Z", "/", "../", ":", "%", "!", " ", "\t", "\n", "\r", "\r\n", "\0",
        "\u0001", "\u001b[31m", "\u007f", "\u0085", "\u009b", "\u00a0", "\u2028", "\u2029", "\u200b", "\u200e", "\u202e", "\u2066",
        "\ufeff", "\u00e9", "\u0430" /* Cyrillic a */, "\uff41" /* fullwidth a */, "\u4e2d", "\U0001F600", "\u0301", "host", "eth0",
    ];

    private static string RandomName(Random random)
    {
        var name = new StringBuilder();
        int pieces = random.Next(8) switch { 0 => 0, 1 => 40, 2 => 12, _ => 1 + random.Next(5) };
        for (int i = 0; i < pieces; i++)
            name.Append(Pieces[random.Next(Pieces.Length)]);
        // Half of them end in a line end or a control character: the '$' trap.
        if (random.Next(3) == 0) name.Append(random.Next(2) == 0 ? "\n" : "\u0000");
        return name.ToString();
    }

    /// <summary>The name written as a YAML double-quoted scalar, every non-ASCII or control character escaped.</summary>
    private static string Quoted(string name)
    {
        var text = new StringBuilder("\"");
        foreach (Rune rune in name.EnumerateRunes())
        {
            if (rune.Value is >= 0x20 and < 0x7F && rune.Value is not '"' and not '\\') text.Append((char)rune.Value);
            else if (rune.Value <= 0xFFFF) text.Append(CultureInfo.InvariantCulture, $"\\u{rune.Value:X4}");
            else text.Append(CultureInfo.InvariantCulture, $"\\U{rune.Value:X8}");
        }
        return text.Append('"').ToString();
    }

    private static bool AllOf(string name, Func<char, bool> allowed) => name.All(allowed);

    private static bool IsTopologyName(string n) =>
        n.Length is >= 1 and <= 16 && n[0] is >= 'a' and <= 'z' && AllOf(n, c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-');

    private static bool IsNamespaceCharacter(char c) =>
        c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '_' or '.' or '-';

    private static bool IsNamespaceName(string n) =>
        n.Length is >= 1 and <= 32 && n is not "." and not ".." && AllOf(n, IsNamespaceCharacter);

    private static bool IsInterfaceName(string n) =>
        n.Length is >= 1 and <= 15 && n is not "." and not ".." and not "lo" and not "all" and not "default"
        && AllOf(n, c => c is > ' ' and <= '~' and not '/' and not ':' and not '%' and not '!');

    private static void ShouldBeOnePrintableLine(string text) =>
        text.Should().NotContainAny(["\n", "\r", "\0", "\u0085", "\u2028", "\u2029", "\u202e", "\u001b"]);

    [Fact]
    public void FuzzedNames_LoadOnlyWhenTheyFollowTheFormat_AndEveryErrorIsOnePrintableLine()
    {
        var random = new Random(Seed);
        int tried = 0, refusedCleanly = 0, accepted = 0;
        for (int i = 0; i < Iterations; i++)
        {
            string name = RandomName(random);
            string q = Quoted(name);
            (string Yaml, bool Valid)[] cases =
            [
                ($"version: 1\nname: {q}\n", IsTopologyName(name)),
                ($"version: 1\nname: t\nnamespaces:\n  {q}: {{}}\n", IsNamespaceName(name) && name != "host"),
                ($"version: 1\nname: t\nbridges:\n  {q}: {{}}\n", IsInterfaceName(name)),
                ($"version: 1\nname: t\nnamespaces:\n  n: {{}}\nveths:\n  - a: {{ namespace: n, name: {q} }}\n    b: {{ namespace: n, name: v1 }}\n",
                    IsInterfaceName(name) && name != "v1"),
                ($"version: 1\nname: t\nbridges:\n  br0: {{ namespace: {q} }}\n", name == "host"),
            ];
            foreach (var (yaml, valid) in cases)
            {
                tried++;
                LoadResult result = TopologyLoader.LoadText(yaml, "f.yaml");
                foreach (Diagnostic d in result.Diagnostics) ShouldBeOnePrintableLine(d.ToString());
                if (valid)
                {
                    result.Errors.Should().BeEmpty($"{q} follows the format in\n{yaml}");
                    accepted++;
                }
                else
                {
                    result.Succeeded.Should().BeFalse($"{q} does not follow the format in\n{yaml}");
                    result.Errors.Should().NotBeEmpty();
                    refusedCleanly++;
                }
            }
        }
        (refusedCleanly + accepted).Should().Be(tried);
        accepted.Should().BeGreaterThan(100, "the fuzzer must produce valid names too");
    }

    [Fact]
    public void FuzzedOptionValues_PassNameRulesOnlyWhenSafe_AndEveryErrorIsOnePrintableLine()
    {
        var random = new Random(Seed + 1);
        for (int i = 0; i < Iterations; i++)
        {
            string name = RandomName(random);
            CheckRule(NameRules.NamespaceNameError(name), IsNamespaceName(name), name);
            CheckRule(NameRules.PrefixError(name),
                name.Length == 0 || (name.Length <= NameRules.MaxPrefix && AllOf(name, IsNamespaceCharacter)), name);
            CheckRule(NameRules.InstanceNameError(name),
                name.Length is >= 1 and <= NameRules.MaxInstanceName && name is not "." and not ".." && AllOf(name, IsNamespaceCharacter), name);
            CheckRule(NameRules.TopologyNameError(name), IsTopologyName(name), name);
        }
    }

    private static void CheckRule(string? error, bool valid, string name)
    {
        if (valid)
        {
            error.Should().BeNull($"'{NameRules.Printable(name)}' is valid");
            return;
        }
        error.Should().NotBeNull($"'{NameRules.Printable(name)}' is invalid");
        ShouldBeOnePrintableLine(error!);
    }

    [Theory]
    [InlineData("version: 1\nname: \"x\\n\"\n", "2:7: error: name: topology name 'x\\n' must start with a lowercase letter and contain only a-z, 0-9 and '-'")]
    [InlineData("version: 1\nname: t\nnamespaces:\n  \"n1\\n\": {}\n", "4:3: error: namespaces[\"n1\\n\"]: namespace name 'n1\\n' may contain only letters, digits, '_', '.' and '-'")]
    [InlineData("version: 1\nname: t\nbridges:\n  br0: { mac: \"02:42:ac:11:00:02\\n\" }\n", "4:15: error: bridges.br0.mac: '02:42:ac:11:00:02\\n' is not a MAC address (six hex octets such as 02:42:ac:11:00:02)")]
    [InlineData("version: 1\nname: t\nnamespaces:\n  n: { sysctls: { \"net.ipv4.ip_forward\\n\": 1 } }\n", "")]
    public void NamesEndingInALineEnd_AreRefused(string yaml, string expected)
    {
        LoadResult result = TopologyLoader.LoadText(yaml, "t.yaml");
        result.Succeeded.Should().BeFalse();
        if (expected.Length > 0) Loader.Render(result).Should().Contain(expected);
        foreach (Diagnostic d in result.Diagnostics) ShouldBeOnePrintableLine(d.ToString());
    }

    [Fact]
    public void Printable_EscapesControlAndInvisibleCharacters_AndKeepsTheRest()
    {
        NameRules.Printable("a\nb\t\u0000\u202e\u00e9\u4e2d").Should().Be("a\\nb\\t\\u0000\\u202E\u00e9\u4e2d");
        NameRules.Printable("plain-name_1.x").Should().Be("plain-name_1.x");
    }
}
