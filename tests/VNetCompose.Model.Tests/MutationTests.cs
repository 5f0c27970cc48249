using System.Text;

namespace VNetCompose.Model.Tests;

/// <summary>
/// Seeded random damage to the example files (lines dropped, duplicated, swapped or re-indented, keys renamed,
/// values replaced by hostile scalars, truncation, random characters and bytes): the loader must only ever
/// answer with diagnostics that point inside the file, and never throw.
/// </summary>
public sealed class MutationTests
{
    private const int Seed = 20261124;
    private const int TextIterations = 4000;
    private const int ByteIterations = 300;

    private static readonly string[] Keys =
    [
        "version", "name", "namespaces", "bridges", "veths", "taps", "nat", "loopback", "sysctls", "routes", "to", "via",
        "dev", "metric", "namespace", "addresses", "mtu", "mac", "stp", "vlan_filtering", "up", "a", "b", "bridge", "mode",
        "owner", "group", "multi_queue", "masquerade", "snat", "port_forward", "source", "destination", "out", "in",
        "protocol", "port", "host", "<<", "x-y", "adress", "",
    ];

    private static readonly string[] Scalars =
    [
        "1", "0", "-1", "65536", "99999999999999999999", "0x10", "0o17", "1.5", ".inf", "true", "yes", "~", "null", "\"\"",
        "''", "abc", "host", "eth0", "lo", "!docker0", "\"!\"", "10.0.0.1/24", "10.0.0.1", "fd00::1/64", "\"fd00::1\"",
        "fe80::1", "default", "0.0.0.0/0", "224.0.0.1/4", "10.0.0.5/8", "[10.0.0.1/24, fd00::1/64]", "{}", "[]", "[[[]]]",
        "{a: {b: {c: d}}}", "*anchor", "&anchor x", "!!int abc", "!!str 5", "!custom x", "|\n  block", ">-\n  folded",
        "01:00:5e:00:00:01", "02:42:ac:11:00:02", "\"1.2.3.4:99999\"", "\"[fd00::2]:80\"", "[", "{", "]", "'", "\"",
        "\"a\\u0000b\"", "tun", "tap", "tcp", "udp", "net.ipv4.ip_forward", new string('x', 300), "\u00e9\u4e2d\ud83d\ude00",
    ];

    [Fact]
    public void MutatedText_OnlyEverYieldsDiagnostics()
    {
        var random = new Random(Seed);
        string[] examples = TestFiles.ExampleTopologies().Select(File.ReadAllText).ToArray();
        int loaded = 0, rejected = 0;
        for (int i = 0; i < TextIterations; i++)
        {
            string text = examples[random.Next(examples.Length)];
            int mutations = 1 + random.Next(3);
            for (int m = 0; m < mutations; m++)
                text = Mutate(text, random);

            LoadResult result = LoadWithoutThrowing(() => TopologyLoader.LoadText(text, "m.yaml"), text);
            AssertConsistent(result, text);
            if (result.Succeeded)
                loaded++;
            else
                rejected++;
        }
        // Both outcomes must occur, or the mutations are too weak (or too strong) to test anything.
        loaded.Should().BeGreaterThan(TextIterations / 20);
        rejected.Should().BeGreaterThan(TextIterations / 2);
    }

    [Fact]
    public void MutatedBytes_OnlyEverYieldDiagnostics()
    {
        var random = new Random(Seed + 1);
        byte[][] examples = TestFiles.ExampleTopologies().Select(File.ReadAllBytes).ToArray();
        string path = Path.Combine(Path.GetTempPath(), $"vnet-mutation-{Guid.NewGuid():N}.yaml");
        try
        {
            for (int i = 0; i < ByteIterations; i++)
            {
                byte[] bytes = [.. examples[random.Next(examples.Length)]];
                for (int n = 1 + random.Next(4); n > 0; n--)
                    bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
                File.WriteAllBytes(path, bytes);
                LoadResult result = LoadWithoutThrowing(() => TopologyLoader.LoadFile(path), Convert.ToHexString(bytes));
                result.Succeeded.Should().Be(!result.Errors.Any());
                result.Diagnostics.Where(d => d.File != path || d.Line < 1 || d.Column < 1 || d.Message.Length == 0).Should().BeEmpty();
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static LoadResult LoadWithoutThrowing(Func<LoadResult> load, string input)
    {
        try
        {
            return load();
        }
        catch (Exception e)
        {
            throw new Xunit.Sdk.XunitException($"the loader threw {e.GetType().Name}: {e.Message}\n--- input ---\n{input}\n--- end ---\n{e}");
        }
    }

    private static void AssertConsistent(LoadResult result, string text)
    {
        // YAML also breaks lines at CR, NEL, LS and PS; a position may be just past the last line.
        int lines = 2 + text.Count(c => c is '\n' or '\r' or '\u0085' or '\u2028' or '\u2029');
        result.Succeeded.Should().Be(!result.Errors.Any(), text);
        if (result.Succeeded)
            result.Topology!.Name.Should().NotBeNullOrEmpty();
        foreach (Diagnostic d in result.Diagnostics)
        {
            d.File.Should().Be("m.yaml");
            d.Line.Should().BeInRange(1, lines, d.ToString());
            d.Column.Should().BeGreaterThanOrEqualTo(1, d.ToString());
            d.Message.Should().NotBeNullOrWhiteSpace();
        }
    }

    private static string Mutate(string text, Random random)
    {
        List<string> lines = [.. text.Split('\n')];
        int at = random.Next(lines.Count);
        switch (random.Next(9))
        {
            case 0:
                lines.RemoveAt(at);
                break;
            case 1:
                lines.Insert(at, lines[at]);
                break;
            case 2:
                lines[at] = ReplaceKey(lines[at], Keys[random.Next(Keys.Length)]);
                break;
            case 3:
                lines[at] = ReplaceValue(lines[at], Scalars[random.Next(Scalars.Length)]);
                break;
            case 4:
                return text[..random.Next(text.Length + 1)];
            case 5:
                int position = random.Next(text.Length + 1);
                return text[..position] + RandomCharacters(random) + text[position..];
            case 6:
                lines[at] = random.Next(2) == 0 ? "  " + lines[at] : lines[at].TrimStart();
                break;
            case 7:
                int other = random.Next(lines.Count);
                (lines[at], lines[other]) = (lines[other], lines[at]);
                break;
            default:
                lines[at] = lines[at].Replace(": ", ": " + Scalars[random.Next(Scalars.Length)] + " ", StringComparison.Ordinal);
                break;
        }
        return string.Join('\n', lines);
    }

    private static string ReplaceKey(string line, string key)
    {
        int colon = line.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0)
            return line;
        int start = line.Length - line.TrimStart(' ', '-').Length;
        return line[..start] + key + line[colon..];
    }

    private static string ReplaceValue(string line, string value)
    {
        int colon = line.IndexOf(": ", StringComparison.Ordinal);
        return colon < 0 ? line + " " + value : line[..(colon + 2)] + value;
    }

    private static string RandomCharacters(Random random)
    {
        var builder = new StringBuilder();
        for (int n = 1 + random.Next(6); n > 0; n--)
            builder.Append((char)(random.Next(4) == 0 ? random.Next(0x10000) : random.Next(0x80)));
        return builder.ToString();
    }
}
