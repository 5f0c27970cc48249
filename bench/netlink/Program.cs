using System.Diagnostics;
using System.Globalization;
using System.Net;
using VNetCompose.Kernel;
using VNetCompose.Netlink;
using VNetCompose.TestSupport;

// Times the netlink driver's operations against the same operations done by spawning iproute2.
// Everything happens in sandbox namespaces named "vnb<hex>-..."; all of them are deleted at the end,
// also after a failure or Ctrl+C. Usage: dotnet run -c Release --project bench/netlink [-- ITERATIONS]

int iterations = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 200;
var sandbox = new SandboxNamespaces("vnb");
using var kernel = new NetlinkKernel();
Console.CancelKeyPress += (_, _) => { kernel.Dispose(); sandbox.Dispose(); };
var results = new List<(string Operation, double Ours, double Ip)>();

try
{
    Console.WriteLine($"netlink driver vs. spawning ip, medians of {iterations} iterations (observe: {iterations / 2} / {iterations / 10}), sandbox prefix {sandbox.Prefix}");

    results.Add(("namespace create",
        Median(iterations, i => kernel.CreateNamespace(sandbox.Name($"n{i}"))),
        Median(iterations, i => Ip("netns", "add", sandbox.Name($"p{i}")))));
    foreach (var name in sandbox.Existing()) kernel.DeleteNamespace(name); // not timed

    string left = sandbox.Create("left"), right = sandbox.Create("right");
    NetnsId l = NetnsId.Named(left), r = NetnsId.Named(right);
    results.Add(("veth create (ends in 2 namespaces)",
        Median(iterations, i => kernel.CreateVeth(new VethEndRequest(l, $"a{i}"), new VethEndRequest(r, $"b{i}"))),
        Median(iterations, i => Ip("-n", left, "link", "add", $"c{i}", "type", "veth", "peer", "name", $"d{i}", "netns", right))));
    results.Add(("veth create (both ends in 1 namespace)",
        Median(iterations, i => kernel.CreateVeth(new VethEndRequest(l, $"e{i}"), new VethEndRequest(l, $"f{i}"))),
        Median(iterations, i => Ip("-n", left, "link", "add", $"g{i}", "type", "veth", "peer", "name", $"h{i}"))));
    results.Add(("bridge create",
        Median(iterations, i => kernel.CreateBridge(l, new BridgeRequest($"br{i}"))),
        Median(iterations, i => Ip("-n", left, "link", "add", $"ib{i}", "type", "bridge"))));
    results.Add(("tap create (persistent)",
        Median(iterations, i => kernel.CreateTuntap(r, new TuntapRequest($"tap{i}", TunMode.Tap))),
        Median(iterations, i => Ip("-n", right, "tuntap", "add", $"itap{i}", "mode", "tap"))));
    results.Add(("address add (IPv4)",
        Median(iterations, i => kernel.AddAddress(l, "br0", Address(10, i), 32)),
        Median(iterations, i => Ip("-n", left, "addr", "add", $"{Address(11, i)}/32", "dev", "br0"))));
    kernel.DeleteNamespace(left);
    kernel.DeleteNamespace(right);

    foreach (int links in new[] { 10, 100, 300 })
    {
        string ns = sandbox.Create($"obs{links}");
        var id = NetnsId.Named(ns);
        for (int pair = 0; pair < links / 2; pair++)
        {
            kernel.CreateVeth(new VethEndRequest(id, $"o{pair}a"), new VethEndRequest(id, $"o{pair}b"));
            kernel.AddAddress(id, $"o{pair}a", Address(12, pair), 24);
        }
        int count = kernel.Observe([id])[id].Links.Count;
        results.Add(($"observe namespace, {count} links",
            Median(iterations / 2, _ => kernel.Observe([id])),
            Median(Math.Max(5, iterations / 10), _ =>
            {
                Ip("-j", "-d", "-n", ns, "link", "show");
                Ip("-j", "-n", ns, "addr", "show");
                Ip("-j", "-n", ns, "route", "show", "table", "main");
                Ip("-j", "-6", "-n", ns, "route", "show", "table", "main");
            })));
        kernel.DeleteNamespace(ns);
    }

    Console.WriteLine();
    Console.WriteLine($"{"operation",-40} {"vnet",12} {"spawn ip",12} {"ratio",8}");
    foreach (var (operation, ours, ip) in results)
    {
        Console.WriteLine($"{operation,-40} {Format(ours),12} {Format(ip),12} {ip / ours,7:0.0}x");
    }
}
finally
{
    kernel.Dispose();
    sandbox.Dispose();
}

static IPAddress Address(byte first, int i) => new([first, (byte)(i >> 16), (byte)(i >> 8), (byte)i]);

static void Ip(params string[] arguments) => ProcessRunner.RunChecked("ip", arguments);

// A few untimed runs first (JIT, first socket of a namespace), then the median in microseconds.
static double Median(int iterations, Action<int> operation)
{
    const int warmup = 3;
    var samples = new double[iterations];
    for (int i = 0; i < warmup + iterations; i++)
    {
        long start = Stopwatch.GetTimestamp();
        operation(i);
        if (i >= warmup) samples[i - warmup] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
    }
    Array.Sort(samples);
    return samples[samples.Length / 2];
}

static string Format(double microseconds) =>
    microseconds >= 1000 ? $"{microseconds / 1000:0.00} ms" : $"{microseconds:0} µs";
