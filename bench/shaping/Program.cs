using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using VNetCompose.Core.Shaping;
using VNetCompose.Kernel;
using VNetCompose.Model;
using VNetCompose.Netlink;
using VNetCompose.TestSupport;

// Measures shaping on a veth between two sandbox namespaces ("vsb<hex>-a", "-b", deleted at the end):
// the rate is set through the driver and the qdisc choice (egress: root tbf of a's eth0; ingress: a's eth0
// redirected to ifb0, whose root tbf shapes), and one TCP bulk transfer per direction runs with iperf3.
// Each iperf3 client receives (-R), so its 0.1 s intervals count what arrived, not what was buffered.
// Usage: dotnet run -c Release --project bench/shaping [-- SECONDS RUNS RESULTS.md]

if (!ProcessRunner.Run("sh", "-c", "command -v iperf3").Succeeded)
{
    Console.Error.WriteLine("shaping bench: needs iperf3 (apt-get install iperf3)");
    return 1;
}
int seconds = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 5;
int runs = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 3;
string resultsPath = args.Length > 2 ? args[2] : Path.Combine("bench", "shaping", "results.md");
var sandbox = new SandboxNamespaces("vsb");
using var kernel = new NetlinkKernel();
Console.CancelKeyPress += (_, _) => { kernel.Dispose(); sandbox.Dispose(); };
var rows = new List<string>();
try
{
    string a = sandbox.Create("a"), b = sandbox.Create("b");
    NetnsId na = NetnsId.Named(a), nb = NetnsId.Named(b);
    kernel.CreateVeth(new VethEndRequest(na, "eth0"), new VethEndRequest(nb, "eth0"));
    kernel.AddAddress(na, "eth0", IPAddress.Parse("10.220.0.1"), 24);
    kernel.AddAddress(nb, "eth0", IPAddress.Parse("10.220.0.2"), 24);
    foreach (var (ns, link) in new[] { (na, "eth0"), (nb, "eth0"), (na, "lo"), (nb, "lo") }) kernel.UpdateLink(ns, link, new LinkUpdate(Up: true));
    ProcessRunner.RunChecked("ip", "-n", a, "link", "add", "ifb0", "type", "ifb");
    ProcessRunner.RunChecked("ip", "-n", a, "link", "set", "ifb0", "up");
    Console.WriteLine($"shaping bench: {seconds} s per transfer, {runs} runs, sandbox {sandbox.Prefix}");

    foreach (ulong mbit in new ulong[] { 10, 100 })
    {
        var tbf = QdiscTreeChooser.Choose(new Impairment { RateBitsPerSecond = mbit * 1_000_000 }, new ShapedLink()).Root!;
        foreach (string mode in new[] { "egress", "ingress", "both" })
        {
            kernel.DeleteRootQdisc(na, "eth0");
            kernel.DeleteIngressRedirect(na, "eth0");
            kernel.DeleteRootQdisc(na, "ifb0");
            if (mode is "egress" or "both") kernel.ReplaceRootQdisc(na, "eth0", tbf);
            if (mode is "ingress" or "both")
            {
                kernel.ReplaceIngressRedirect(na, "eth0", "ifb0");
                kernel.ReplaceRootQdisc(na, "ifb0", tbf);
            }
            for (int run = 0; run < runs; run++)
            {
                // a -> b is shaped by a's egress; b -> a by a's ingress. "both" runs the two at once.
                var transfers = new List<(string Direction, Task<Measurement> Result)>();
                if (mode is "egress" or "both") transfers.Add(("a->b", Task.Run(() => Transfer(a, b, "10.220.0.1", 5301, seconds))));
                if (mode is "ingress" or "both") transfers.Add(("b->a", Task.Run(() => Transfer(b, a, "10.220.0.2", 5302, seconds))));
                foreach (var (direction, task) in transfers)
                {
                    var m = task.GetAwaiter().GetResult();
                    double configured = mbit * 1e6;
                    string row = string.Create(CultureInfo.InvariantCulture,
                        $"| {mbit} Mbit/s | {mode} | {direction} | {run + 1} | {m.AverageBitsPerSecond / 1e6:F2} | {m.AverageBitsPerSecond / configured:F3} | {m.FirstTenthBitsPerSecond / 1e6:F2} | {m.FirstTenthBitsPerSecond / configured:F2} | {m.PeakTenthBitsPerSecond / configured:F2} |");
                    rows.Add(row);
                    Console.WriteLine(row);
                }
            }
        }
    }
    var qdisc = (TbfParameters)QdiscTreeChooser.Choose(new Impairment { RateBitsPerSecond = 10_000_000 }, new ShapedLink()).Root!;
    var text = new StringBuilder()
        .AppendLine("# Shaping bench: TCP through a shaped veth")
        .AppendLine()
        .AppendLine(CultureInfo.InvariantCulture, $"`dotnet run -c Release --project bench/shaping -- {seconds} {runs}` on {DateTime.UtcNow:yyyy-MM-dd} ({Environment.ProcessorCount} CPUs, kernel {File.ReadAllText("/proc/sys/kernel/osrelease").Trim()}, HZ 250).")
        .AppendLine("One iperf3 TCP stream per direction, the receiving side reporting every 0.1 s. Shaping through the driver and")
        .AppendLine(CultureInfo.InvariantCulture, $"QdiscTreeChooser: a tbf with burst max(rate/HZ, MTU+18) and a 50 ms queue (10 Mbit/s: burst {qdisc.BurstBytes} B, limit {qdisc.LimitBytes} B).")
        .AppendLine("egress: root tbf on a's eth0 (a->b); ingress: a's eth0 redirected (u32 + mirred) to ifb0 with the tbf (b->a); both: the two at once.")
        .AppendLine()
        .AppendLine("| rate | shaping | direction | run | achieved Mbit/s | achieved / rate | first 0.1 s Mbit/s | first 0.1 s / rate | highest 0.1 s / rate |")
        .AppendLine("|---|---|---|---|---|---|---|---|---|");
    foreach (var row in rows) text.AppendLine(row);
    File.WriteAllText(resultsPath, text.ToString());
    Console.WriteLine($"written to {resultsPath}");
}
catch (Exception e)
{
    Console.Error.WriteLine($"shaping bench failed: {e.Message}");
    Environment.ExitCode = 1;
}
finally
{
    kernel.Dispose();
    sandbox.Dispose();
}
return Environment.ExitCode;

// One iperf3 transfer from senderNs to receiverNs: server (sender) in senderNs, client -R in receiverNs.
static Measurement Transfer(string senderNs, string receiverNs, string senderAddress, int port, int seconds)
{
    var server = Process.Start(new ProcessStartInfo("ip", ["netns", "exec", senderNs, "iperf3", "-s", "-1", "-p", port.ToString(CultureInfo.InvariantCulture)])
    {
        RedirectStandardOutput = true,
        RedirectStandardError = true,
    })!;
    try
    {
        CommandResult client = default!;
        for (int attempt = 0; attempt < 20; attempt++)
        {
            client = ProcessRunner.Run("ip", ["netns", "exec", receiverNs, "iperf3", "-c", senderAddress, "-p", port.ToString(CultureInfo.InvariantCulture),
                "-R", "-t", seconds.ToString(CultureInfo.InvariantCulture), "-i", "0.1", "-J"], TimeSpan.FromSeconds(seconds + 30));
            // iperf3 -J may exit 0 with "error" in its JSON; either way the server was not listening yet.
            if (client.Succeeded && !client.StandardOutput.Contains("\"error\"", StringComparison.Ordinal)) break;
            Thread.Sleep(100);
        }
        client.EnsureSuccess();
        using var json = JsonDocument.Parse(client.StandardOutput);
        if (!json.RootElement.TryGetProperty("end", out var end) || !end.TryGetProperty("sum_received", out _))
            throw new InvalidOperationException($"iperf3 gave no result: {client.StandardOutput[..Math.Min(2000, client.StandardOutput.Length)]}");
        var intervals = json.RootElement.GetProperty("intervals").EnumerateArray()
            .Select(i => i.GetProperty("sum").GetProperty("bits_per_second").GetDouble()).ToList();
        double average = json.RootElement.GetProperty("end").GetProperty("sum_received").GetProperty("bits_per_second").GetDouble();
        return new Measurement(average, intervals[0], intervals.Max());
    }
    finally
    {
        if (!server.WaitForExit(5000)) server.Kill(entireProcessTree: true);
        server.Dispose();
    }
}

internal sealed record Measurement(double AverageBitsPerSecond, double FirstTenthBitsPerSecond, double PeakTenthBitsPerSecond);
