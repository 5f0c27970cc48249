// Times the nf_tables driver against nft(8) on the same rulesets, inside a sandbox namespace:
// ReplaceNatTable with 1, 100 and 1000 port forwards, applied to a namespace without the table
// ("apply") and over an existing table of the same size ("replace"), against
// `ip netns exec NS nft -f FILE` of the same ruleset (what a shell script does). Medians of many runs.
// Usage: dotnet run -c Release --project bench/nft [-- --quick]
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using VNetCompose.Kernel;
using VNetCompose.Netlink;
using VNetCompose.TestSupport;

const string Table = "vnet-bench";
bool quick = args.Contains("--quick");
int[] sizes = [1, 100, 1000];

using var sandbox = new SandboxNamespaces("vb");
string ns = sandbox.Create("nft");
var id = NetnsId.Named(ns);
var kernel = new NetlinkKernel();
string scratch = Directory.CreateTempSubdirectory("vnet-nft-bench").FullName;
var results = new List<(int Size, string Case, string Variant, Stats Stats)>();
try
{
    foreach (int size in sizes)
    {
        var table = new NatTableState(Table, PortForwards(size));
        string file = Path.Combine(scratch, $"forwards-{size}.nft");
        File.WriteAllText(file, NftScript(table));
        int iterations = quick ? 5 : size switch { 1 => 300, 100 => 100, _ => 30 };
        int nftIterations = quick ? 3 : size switch { 1 => 100, 100 => 50, _ => 20 };

        // Warm up (JIT, socket creation, module autoload) and check both variants write the same rules.
        kernel.ReplaceNatTable(id, table);
        Check(kernel.ReadNatTable(id, Table)!.Rules.SequenceEqual(table.Rules), "driver round trip");
        kernel.DeleteNatTable(id, Table);
        RunNft(ns, file);
        Check(kernel.ReadNatTable(id, Table)!.Rules.SequenceEqual(table.Rules), "nft -f writes the same rules");

        results.Add((size, "apply", "driver", Measure(iterations, () => kernel.DeleteNatTable(id, Table), () => kernel.ReplaceNatTable(id, table))));
        results.Add((size, "replace", "driver", Measure(iterations, () => { }, () => kernel.ReplaceNatTable(id, table))));
        results.Add((size, "apply", "nft -f", Measure(nftIterations, () => kernel.DeleteNatTable(id, Table), () => RunNft(ns, file))));
        results.Add((size, "replace", "nft -f", Measure(nftIterations, () => { }, () => RunNft(ns, file))));
        kernel.DeleteNatTable(id, Table);
    }
}
finally
{
    kernel.Dispose();
    Directory.Delete(scratch, recursive: true);
}

Console.WriteLine($"# nf_tables NAT table: driver vs nft -f ({DateTime.UtcNow:yyyy-MM-dd}, {Environment.ProcessorCount} cores, kernel {Environment.OSVersion.Version})");
Console.WriteLine();
Console.WriteLine("| port forwards | case | driver median (min–max) | `ip netns exec nft -f` median (min–max) | ratio |");
Console.WriteLine("|---:|---|---:|---:|---:|");
foreach (var group in results.GroupBy(r => (r.Size, r.Case)))
{
    var driver = group.Single(r => r.Variant == "driver").Stats;
    var nft = group.Single(r => r.Variant == "nft -f").Stats;
    Console.WriteLine($"| {group.Key.Size} | {group.Key.Case} | {driver} | {nft} | {nft.Median / driver.Median:F1}× |");
}
return 0;

static IReadOnlyList<NatRuleState> PortForwards(int count) => Enumerable.Range(0, count)
    .Select(i => new NatRuleState(NatChain.Prerouting, NatVerdictKind.Dnat, InInterface: new NatInterface("eth0", Negated: false),
        L4Protocol: 6, DestinationPort: (ushort)(10000 + i), ToAddress: IPAddress.Parse($"172.17.{i / 250}.{i % 250 + 2}"), ToPort: 80))
    .ToList();

// The same table in nft syntax, replaced atomically the way nft scripts do it (add, delete, create in one file).
static string NftScript(NatTableState table)
{
    var text = new StringBuilder();
    text.AppendLine(CultureInfo.InvariantCulture, $"table inet {table.Name}");
    text.AppendLine(CultureInfo.InvariantCulture, $"delete table inet {table.Name}");
    text.AppendLine(CultureInfo.InvariantCulture, $"table inet {table.Name} {{");
    text.AppendLine("  comment \"vnet\"");
    text.AppendLine("  chain prerouting {");
    text.AppendLine("    type nat hook prerouting priority dstnat; policy accept;");
    foreach (var rule in table.Rules)
    {
        text.AppendLine(CultureInfo.InvariantCulture,
            $"    iifname \"{rule.InInterface!.Name}\" meta l4proto tcp th dport {rule.DestinationPort} dnat ip to {rule.ToAddress}:{rule.ToPort} comment \"{rule.Describe()}\"");
    }
    text.AppendLine("  }");
    text.AppendLine("}");
    return text.ToString();
}

static void RunNft(string ns, string file) =>
    ProcessRunner.Run("ip", ["netns", "exec", ns, "nft", "-f", file], TimeSpan.FromSeconds(60)).EnsureSuccess();

static Stats Measure(int iterations, Action prepare, Action action)
{
    var samples = new double[iterations];
    for (int i = 0; i < iterations; i++)
    {
        prepare();
        long start = Stopwatch.GetTimestamp();
        action();
        samples[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }
    Array.Sort(samples);
    return new Stats(samples[iterations / 2], samples[0], samples[^1]);
}

static void Check(bool condition, string what)
{
    if (!condition) throw new InvalidOperationException($"benchmark self-check failed: {what}");
}

internal sealed record Stats(double Median, double Min, double Max)
{
    public override string ToString() => $"{Format(Median)} ({Format(Min)}–{Format(Max)})";

    private static string Format(double ms) => ms < 1 ? $"{ms * 1000:F0} µs" : $"{ms:F2} ms";
}
