using System.Text.Json;
using VNetCompose.Model;
using VNetCompose.TestSupport;

namespace VNetCompose.Cli.Tests;

/// <summary>
/// <c>vnet export</c> against the real kernel: the seed's hand-built labs (two namespaces on a veth, a switch namespace
/// with a bridge, tun/tap on a bridge, the docker0 figure with its NAT rule), built with ip and nft, exported, brought up
/// again by vnet under another prefix, are the same to <c>ip -j</c> and <c>nft -j</c>; a lab vnet made, exported, plans
/// no change; what the format cannot express is in the file as comments.
/// </summary>
public sealed class ExportTests : IDisposable
{
    private readonly Vnet _vnet = new();
    private readonly SandboxNamespaces _sandbox = new();

    public void Dispose()
    {
        try
        {
            foreach (var record in Directory.GetFiles(_vnet.StateDirectory, "*.json"))
                _vnet.Run("down", "-q", "--name", Path.GetFileNameWithoutExtension(record));
        }
        finally
        {
            _sandbox.Dispose();
            _vnet.Dispose();
        }
    }

    /// <summary>The seed's experiments, by hand: each line an <c>ip</c> or <c>nft</c> command; <c>{X}</c> is the sandbox's name for X.</summary>
    public static TheoryData<string> SeedLabs() => new(HandBuilt.Keys.Order(StringComparer.Ordinal));

    private static readonly Dictionary<string, (string[] Namespaces, bool Host, string[] Commands)> HandBuilt = new()
    {
        ["two-namespaces"] = (["net0", "net1"], false,
        [
            "ip -n {net0} link add veth0 type veth peer name veth1 netns {net1}",
            "ip -n {net0} addr add 10.0.1.1/24 dev veth0",
            "ip -n {net1} addr add 10.0.1.2/24 dev veth1",
            "ip -n {net0} link set veth0 up",
            "ip -n {net1} link set veth1 up",
        ]),
        ["switch"] = (["net0", "net1", "bridge"], false,
        [
            "ip -n {net0} link add net0-bridge type veth peer name bridge-net0 netns {bridge}",
            "ip -n {net1} link add net1-bridge type veth peer name bridge-net1 netns {bridge}",
            "ip -n {bridge} link add name br type bridge",
            "ip -n {bridge} link set dev br up",
            "ip -n {bridge} link set dev bridge-net0 up",
            "ip -n {bridge} link set dev bridge-net1 up",
            "ip -n {bridge} link set dev bridge-net0 master br",
            "ip -n {bridge} link set dev bridge-net1 master br",
            "ip -n {net0} link set dev net0-bridge up",
            "ip -n {net0} address add 10.0.1.1/24 dev net0-bridge",
            "ip -n {net1} link set dev net1-bridge up",
            "ip -n {net1} address add 10.0.1.2/24 dev net1-bridge",
        ]),
        ["tuntap"] = (["host", "netns1"], true,
        [
            "ip -n {host} link add br0 type bridge",
            "ip netns exec {host} ip tuntap add dev tap0 mode tap",
            "ip netns exec {host} ip tuntap add dev tun0 mode tun",
            "ip -n {host} link add type veth",
            "ip -n {host} link set veth1 master br0",
            "ip -n {host} link set tap0 master br0",
            "ip -n {host} link set veth0 netns {netns1}",
        ]),
        ["docker0"] = (["host", "ubuntu1", "ubuntu2"], true,
        [
            "ip -n {host} link add name docker0 type bridge",
            "ip -n {host} link set dev docker0 address 02:42:8a:77:c4:8c",
            "ip -n {host} addr add 172.17.0.1/16 dev docker0",
            "ip -n {host} link set dev docker0 up",
            "ip -n {host} link add vethd52f2b1 type veth peer name eth0 netns {ubuntu1}",
            "ip -n {host} link add vethbb7c5c5 type veth peer name eth0 netns {ubuntu2}",
            "ip -n {host} link set dev vethd52f2b1 master docker0",
            "ip -n {host} link set dev vethbb7c5c5 master docker0",
            "ip -n {host} link set dev vethd52f2b1 up",
            "ip -n {host} link set dev vethbb7c5c5 up",
            "ip -n {ubuntu1} link set dev eth0 address 02:42:ac:11:00:02",
            "ip -n {ubuntu2} link set dev eth0 address 02:42:ac:11:00:03",
            "ip -n {ubuntu1} addr add 172.17.0.2/16 dev eth0",
            "ip -n {ubuntu2} addr add 172.17.0.3/16 dev eth0",
            "ip -n {ubuntu1} link set dev eth0 up",
            "ip -n {ubuntu2} link set dev eth0 up",
            "ip -n {ubuntu1} link set dev lo up",
            "ip -n {ubuntu2} link set dev lo up",
            "ip -n {ubuntu1} route add default via 172.17.0.1",
            "ip -n {ubuntu2} route add default via 172.17.0.1",
            "ip netns exec {host} sysctl -qw net.ipv4.ip_forward=1",
            "ip netns exec {host} nft add table ip nat",
            "ip netns exec {host} nft add chain ip nat POSTROUTING { type nat hook postrouting priority srcnat ; policy accept ; }",
            "ip netns exec {host} nft add rule ip nat POSTROUTING ip saddr 172.17.0.0/16 oifname != docker0 masquerade",
        ]),
    };

    [Theory]
    [MemberData(nameof(SeedLabs))]
    public void HandBuiltSeedLab_Exported_AndBroughtUpUnderAPrefix_HasTheSameStructure(string lab)
    {
        var (namespaces, host, commands) = HandBuilt[lab];
        foreach (string ns in namespaces) _sandbox.Create(ns);
        foreach (string command in commands)
        {
            string line = namespaces.Aggregate(command, (text, ns) => text.Replace("{" + ns + "}", _sandbox.Name(ns), StringComparison.Ordinal));
            ProcessRunner.Run(line.Split(' ')[0], line.Split(' ')[1..], ProcessRunner.DefaultTimeout).EnsureSuccess();
        }

        string file = Path.Combine(_vnet.StateDirectory, lab + ".yaml");
        var named = namespaces.Where(n => n != "host").Select(_sandbox.Name).ToList();
        string[] source = [.. named, "--prefix", _sandbox.Prefix, .. host ? new[] { "--host-netns", _sandbox.Name("host") } : []];
        var export = _vnet.Run(["export", .. source, "-o", file]);
        export.ExitCode.Should().Be(0, export.StandardError);
        string yaml = File.ReadAllText(file);
        TopologyLoader.LoadFile(file).Diagnostics.Should().NotContain(d => d.Severity == DiagnosticSeverity.Error);
        // Stable: the same kernel state gives the same bytes.
        _vnet.Run(["export", .. source]).EnsureSuccess().StandardOutput.Should().Be(yaml);

        string copy = _sandbox.Prefix + "copy-", copyHost = _sandbox.Prefix + "copysbx";
        var up = _vnet.Run("up", "-q", file, "--prefix", copy, "--host-netns", copyHost);
        up.ExitCode.Should().Be(0, up.StandardError + up.StandardOutput);

        foreach (string ns in namespaces)
        {
            string original = _sandbox.Name(ns), rebuilt = ns == "host" ? copyHost : copy + ns;
            string Short(string? kernel) => kernel == original || kernel == rebuilt ? "(self)"
                : kernel is null ? "?" : kernel == _sandbox.Name("host") || kernel == copyHost ? "host"
                : kernel.StartsWith(copy, StringComparison.Ordinal) ? kernel[copy.Length..] : kernel[_sandbox.Prefix.Length..];
            // host's lo is not the topology's to say: vnet brings a --host-netns sandbox's lo up (the export says so).
            bool Compared(string line) => ns != "host" || !(line.StartsWith("link lo ", StringComparison.Ordinal) || line.StartsWith("address lo ", StringComparison.Ordinal));
            LabStructure.Of(rebuilt, Short).Where(Compared).Should().Equal(LabStructure.Of(original, Short).Where(Compared),
                $"namespace {ns} as ip -j and nft -j show it");
        }
        if (host) yaml.Should().Contain("#   host: lo is down: vnet brings up the lo of the namespace --host-netns names");
        // And exporting the copy gives the same file but for the namespaces named in its first line.
        var again = _vnet.Run(["export", .. named.Select(n => copy + n[_sandbox.Prefix.Length..]), "--prefix", copy,
            .. host ? new[] { "--host-netns", copyHost } : []]).EnsureSuccess().StandardOutput;
        Body(again).Should().Be(Body(yaml));
    }

    /// <summary>The file without its comment lines (the first names the namespaces it came from).</summary>
    private static string Body(string yaml) => string.Join('\n', yaml.Split('\n').Where(l => !l.StartsWith('#')));

    public static TheoryData<string> Examples() => new(Directory.GetFiles(Path.Combine(Vnet.Assets, "topologies"), "*.yaml")
        .Select(f => Path.GetFileName(f)).Where(f => f != "ovs-vlans.yaml").Order(StringComparer.Ordinal));

    [Theory]
    [MemberData(nameof(Examples))]
    public void LabVnetMade_Exported_PlansNoChange(string topology)
    {
        string[] placement = ["--prefix", _sandbox.Prefix, "--host-netns", _sandbox.Name("host")];
        var up = _vnet.Run(["up", "-q", Vnet.Topology(topology), .. placement]);
        up.ExitCode.Should().Be(0, up.StandardError);
        string file = Path.Combine(_vnet.StateDirectory, "export-" + topology);
        var named = _sandbox.Existing().Where(n => n != _sandbox.Name("host")).ToList();
        var export = _vnet.Run(["export", .. named, .. placement, "-o", file]);
        export.ExitCode.Should().Be(0, export.StandardError);
        string yaml = File.ReadAllText(file);
        yaml.Should().Contain("name: " + Path.GetFileNameWithoutExtension(topology), "the lab's own name, found in its links' marker");

        var plan = _vnet.Run(["plan", "--detailed-exitcode", file, .. placement]);
        plan.ExitCode.Should().Be(0, $"the export of a lab vnet made plans no change:\n{plan.StandardOutput}{plan.StandardError}\n{yaml}");
        plan.StandardOutput.Should().Contain("No changes");
        // --all-named finds the same namespaces (and leaves the host sandbox to --host-netns).
        _vnet.Run(["export", "--all-named", .. placement]).EnsureSuccess().StandardOutput.Should().Be(yaml);
    }

    [Fact]
    public void WhatTheFormatCannotSay_IsReportedAsComments_AndTheRestStillComesUp()
    {
        string a = _sandbox.Create("a"), outside = _sandbox.Create("outside");
        string[] setup =
        [
            $"ip -n {a} link add name br0 type bridge",
            $"ip -n {a} link set dev br0 up",
            $"ip -n {a} addr add 10.9.0.1/24 dev br0",
            $"ip -n {a} route add blackhole 10.66.0.0/16",
            $"ip -n {a} link add eth0 type veth peer name eth0 netns {outside}",
            $"ip netns exec {a} sysctl -qw net.ipv4.conf.br0.proxy_arp=1",
            $"ip netns exec {a} nft add table inet filter",
            $"ip netns exec {a} nft add chain inet filter input {{ type filter hook input priority 0 ; policy drop ; }}",
            $"ip netns exec {a} nft add rule inet filter input ct state established accept",
            $"ip netns exec {a} nft add table ip nat",
            $"ip netns exec {a} nft add chain ip nat post {{ type nat hook postrouting priority srcnat ; }}",
            $"ip netns exec {a} nft add rule ip nat post oifname br0 masquerade random",
            $"ip netns exec {a} nft add rule ip nat post ip saddr 10.9.0.0/24 snat to 192.0.2.1",
            $"ip -n {a} link add dummyish type bridge",
            $"tc -n {a} qdisc add dev dummyish root tbf rate 1mbit burst 1000 limit 30000",
            $"tc -n {a} qdisc add dev br0 root handle 1: htb default 10",
        ];
        foreach (string line in setup)
            ProcessRunner.Run(line.Split(' ')[0], line.Split(' ')[1..], ProcessRunner.DefaultTimeout).EnsureSuccess();

        var export = _vnet.Run("export", a, "--prefix", _sandbox.Prefix, "--topology-name", "odd");
        export.ExitCode.Should().Be(0, export.StandardError);
        string yaml = export.StandardOutput;
        var comments = yaml.Split('\n').Where(l => l.StartsWith("#   a: ", StringComparison.Ordinal)).Select(l => l["#   a: ".Length..]).ToList();
        comments.Should().Contain(c => c.StartsWith("veth eth0: its peer is in a namespace not exported", StringComparison.Ordinal));
        comments.Should().Contain(c => c.StartsWith("route 10.66.0.0/16: type 6", StringComparison.Ordinal));
        comments.Should().Contain(c => c.StartsWith("sysctl net.ipv4.conf.br0.proxy_arp = 1 (default 0)", StringComparison.Ordinal));
        comments.Should().Contain(c => c.StartsWith("table inet filter chain input (type filter hook input priority 0 policy drop) with 1 rule(s)", StringComparison.Ordinal));
        comments.Should().Contain(c => c.StartsWith("table ip nat chain post rule ", StringComparison.Ordinal) && c.Contains("masq with flags", StringComparison.Ordinal));
        comments.Should().Contain(c => c.StartsWith("link dummyish: root qdisc tbf rate 1mbit burst", StringComparison.Ordinal));
        comments.Should().Contain(c => c.StartsWith("link br0: root qdisc htb (handle 1:)", StringComparison.Ordinal));
        yaml.Should().Contain("- snat: { namespace: a, source: 10.9.0.0/24, to: 192.0.2.1 }");

        // What it does say comes up (under another prefix) and plans no change afterwards.
        string file = Path.Combine(_vnet.StateDirectory, "odd.yaml");
        File.WriteAllText(file, yaml);
        string[] copy = ["--prefix", _sandbox.Prefix + "copy-", "--host-netns", _sandbox.Name("copysbx")];
        _vnet.Run(["up", "-q", file, .. copy]).ExitCode.Should().Be(0);
        _vnet.Run(["plan", "--detailed-exitcode", file, .. copy]).ExitCode.Should().Be(0);
    }

    [Fact]
    public void MistakesOnTheCommandLine_AreOneLineErrors()
    {
        string a = _sandbox.Create("a");
        var missing = _vnet.Run("export", _sandbox.Name("nope"));
        missing.ExitCode.Should().Be(1);
        missing.StandardError.Should().Be($"error: no namespace {_sandbox.Name("nope")} (ip netns list)\n");
        var prefix = _vnet.Run("export", a, "--prefix", "other-");
        prefix.ExitCode.Should().Be(1);
        prefix.StandardError.Should().Be($"error: namespace {a} does not start with the prefix 'other-'\n");
        var nothing = _vnet.Run("export");
        nothing.ExitCode.Should().Be(1);
        nothing.StandardError.Should().StartWith("error: name the namespaces to export");
        var both = _vnet.Run("export", "--host", "--host-netns", a);
        both.ExitCode.Should().Be(1);
        both.StandardError.Should().StartWith("error: give --host");
    }
}

/// <summary>A namespace's structure as iproute2 and nft show it, with kernel-made and per-run details left out (ifindexes,
/// the ownership alias, IPv6 link-local addresses, kernel routes, route protocols), as sorted lines.</summary>
internal static class LabStructure
{
    /// <param name="shortName">The namespace a peer lives in, as the comparison should name it.</param>
    public static IReadOnlyList<string> Of(string ns, Func<string?, string> shortName)
    {
        var links = Oracle.Links(ns);
        var nsids = Oracle.NetnsIds(ns);
        var lines = new List<string>();
        foreach (var link in links)
        {
            string peer = "";
            if (link.Kind == "veth")
            {
                string? peerNs = link.PeerNetnsId is { } id ? nsids.GetValueOrDefault(id) : ns;
                var peerLinks = peerNs is null ? [] : Oracle.Links(peerNs);
                peer = $" peer {shortName(peerNs)}/{peerLinks.FirstOrDefault(p => p.Index == link.PeerIndex)?.Name}";
            }
            string tun = link.Kind == "tun" ? $" {link.InfoData("type")?.GetString()}" : "";
            lines.Add($"link {link.Name} {link.Kind ?? "-"}{tun} mtu {link.Mtu} mac {link.Mac} master {link.Master ?? "-"} "
                + $"{(link.AdminUp ? "up" : "down")}{peer}");
        }
        lines.AddRange(Oracle.Addresses(ns).Where(a => !a.Address.IsIPv6LinkLocal).Select(a => $"address {a.Link} {a.Address}/{a.PrefixLength}"));
        lines.AddRange(Oracle.Routes(ns).Where(r => r.Protocol != "kernel")
            .Select(r => $"route {r.Destination}/{r.PrefixLength} via {r.Gateway} dev {r.Device} metric {r.Metric} type {r.Type}"));
        lines.AddRange(NatRules(ns));
        foreach (string key in new[] { "net.ipv4.ip_forward", "net.ipv6.conf.all.forwarding" })
            lines.Add($"sysctl {key} = {Oracle.Sysctl(ns, key)}");
        return lines.Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>Rules of nat chains of any table, by hook, their expressions as nft -j gives them (comments left out).</summary>
    private static IEnumerable<string> NatRules(string ns)
    {
        string output = ProcessRunner.RunChecked("ip", "netns", "exec", ns, "nft", "-j", "list", "ruleset");
        using var document = JsonDocument.Parse(output);
        var hooks = new Dictionary<(string, string, string), string>();
        var rules = new List<string>();
        foreach (var item in document.RootElement.GetProperty("nftables").EnumerateArray())
        {
            if (item.TryGetProperty("chain", out var chain) && chain.TryGetProperty("type", out var type) && type.GetString() == "nat")
                hooks[(chain.GetProperty("family").GetString()!, chain.GetProperty("table").GetString()!, chain.GetProperty("name").GetString()!)] =
                    chain.GetProperty("hook").GetString()!;
            if (item.TryGetProperty("rule", out var rule)
                && hooks.TryGetValue((rule.GetProperty("family").GetString()!, rule.GetProperty("table").GetString()!, rule.GetProperty("chain").GetString()!), out var hook))
                rules.Add($"nat {hook} {rule.GetProperty("expr")}");
        }
        return rules;
    }
}
