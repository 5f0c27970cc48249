using System.Text.Json;
using System.Text.Json.Nodes;
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
        RoundTrip(lab, namespaces, host, commands);
    }

    /// <summary>
    /// Every link kind this kernel can make, by hand across four namespaces: veth pairs (MTU 9000), a bridge with STP
    /// and three kinds of port (veth, tap, vxlan), a tap with an owner and multi_queue, a tun that is down, a macvlan and
    /// a macvtap on a veth, a macvlan moved into another namespace than its parent's, a vxlan on each side of the veth,
    /// a tbf on a link and an ifb carrying a link's ingress (named as vnet names it), routes, forwarding and
    /// rp_filter, SNAT and a port forward.
    /// </summary>
    [LinkKindsFact("macvlan", "macvtap", "vxlan id 42", "ifb")]
    public void HandBuiltLab_OfEveryKindTheKernelHas_Exported_AndBroughtUpUnderAPrefix_HasTheSameStructure() =>
        RoundTrip("every-kind", ["host", "r1", "r2", "c1", "c2"], true,
        [
            "ip -n {r1} link add uplink0 mtu 9000 type veth peer name uplink0 mtu 9000 netns {r2}",
            "ip -n {r1} addr add 192.0.2.1/24 dev uplink0",
            "ip -n {r1} link set uplink0 up",
            "ip -n {r2} addr add 192.0.2.2/24 dev uplink0",
            "ip -n {r2} link set uplink0 up",
            "ip -n {r1} link add br0 type bridge stp_state 1",
            "ip -n {r1} addr add 10.1.0.1/24 dev br0",
            "ip -n {r1} link set br0 up",
            "ip -n {r1} link add p-c1 type veth peer name eth0 netns {c1}",
            "ip -n {r1} link set p-c1 master br0 up",
            "ip -n {c1} addr add 10.1.0.10/24 dev eth0",
            "ip -n {c1} link set eth0 up",
            "ip -n {c1} link set lo up",
            "ip -n {c1} route add default via 10.1.0.1",
            "ip netns exec {r1} ip tuntap add dev tap0 mode tap user 1000 multi_queue",
            "ip -n {r1} link set tap0 master br0",
            "ip netns exec {r1} ip tuntap add dev tun0 mode tun",
            "ip -n {r1} addr add 10.8.0.1/24 dev tun0",
            "ip -n {r1} link add vx0 type vxlan id 42 remote 192.0.2.2 local 192.0.2.1 dev uplink0 dstport 4789 ttl 4",
            "ip -n {r1} link set vx0 master br0 up",
            "ip -n {r2} link add vx0 type vxlan id 42 remote 192.0.2.1 local 192.0.2.2 dev uplink0 dstport 4789",
            "ip -n {r2} addr add 10.1.0.2/24 dev vx0",
            "ip -n {r2} link set vx0 up",
            "ip -n {r2} link add mv0 link uplink0 type macvlan mode private",
            "ip -n {r2} addr add 192.0.2.20/24 dev mv0",
            "ip -n {r2} link set mv0 up",
            "ip -n {r2} link add mvt0 link uplink0 type macvtap mode bridge",
            "ip -n {r2} link add mvc link uplink0 type macvlan mode bridge",
            "ip -n {r2} link set mvc netns {c2}",
            "ip -n {c2} addr add 192.0.2.30/24 dev mvc",
            "ip -n {c2} link set mvc up",
            "ip -n {c2} route add 10.1.0.0/24 via 192.0.2.1",
            "ip -n {r2} route add 10.8.0.0/24 via 192.0.2.1",
            "ip netns exec {r1} sysctl -qw net.ipv4.ip_forward=1",
            "ip netns exec {r1} sysctl -qw net.ipv4.conf.all.rp_filter=2",
            "ip netns exec {r1} nft add table ip nat",
            "ip netns exec {r1} nft add chain ip nat post { type nat hook postrouting priority srcnat ; }",
            "ip netns exec {r1} nft add rule ip nat post ip saddr 10.1.0.0/24 oifname uplink0 snat to 192.0.2.1",
            "ip netns exec {r1} nft add chain ip nat pre { type nat hook prerouting priority dstnat ; }",
            "ip netns exec {r1} nft add rule ip nat pre iifname uplink0 udp dport 53 dnat to 10.1.0.10:5353",
            "tc -n {c1} qdisc add dev eth0 root tbf rate 10mbit burst 64kb latency 50ms",
            "ip -n {r2} link add ifb-uplink0 type ifb",
            "ip -n {r2} link set ifb-uplink0 up",
            "tc -n {r2} qdisc add dev uplink0 handle ffff: ingress",
            "tc -n {r2} filter add dev uplink0 parent ffff: protocol all u32 match u32 0 0 action mirred egress redirect dev ifb-uplink0",
            "tc -n {r2} qdisc add dev ifb-uplink0 root tbf rate 20mbit burst 32kb latency 50ms",
        ]);

    private void RoundTrip(string lab, string[] namespaces, bool host, string[] commands)
    {
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

    [LinkKindFact("ifb")]
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
            $"ip -n {a} link add ifb0 type ifb",
            $"ip -n {a} link set ifb0 up",
            $"tc -n {a} qdisc add dev br0 handle ffff: ingress",
            $"tc -n {a} filter add dev br0 parent ffff: protocol all u32 match u32 0 0 action mirred egress redirect dev ifb0",
            $"tc -n {a} qdisc add dev ifb0 root tbf rate 20mbit burst 32kb latency 50ms",
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
        // A hand-made ifb carrying br0's ingress is written as br0's 'ingress:'; the copy's ifb has vnet's name, which the file says.
        comments.Should().Contain("link ifb0 (ifb): written as 'ingress:' of br0; vnet names the copy's ifb ifb-br0");
        yaml.Should().Contain("ingress: { rate: 20mbit, burst: 32768 }");
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
            else if (link.PeerIndex is { } parentIndex)
            {
                // A macvlan's, macvtap's or vxlan's parent (IFLA_LINK), wherever it lives.
                string? parentNs = link.PeerNetnsId is { } id ? nsids.GetValueOrDefault(id) : ns;
                var parentLinks = parentNs is null ? [] : Oracle.Links(parentNs);
                peer = $" parent {shortName(parentNs)}/{parentLinks.FirstOrDefault(p => p.Index == parentIndex)?.Name}";
            }
            // An ifb's MAC is the kernel's random pick: 'ingress:' makes the ifb and says nothing about it.
            string mac = link.Kind == "ifb" ? "(random)" : link.Mac ?? "-";
            lines.Add($"link {link.Name} {link.Kind ?? "-"} mtu {link.Mtu} mac {mac} master {link.Master ?? "-"} "
                + $"{(link.AdminUp ? "up" : "down")}{peer} data {KindData(link)}");
        }
        foreach (var link in links)
        {
            // Qdiscs by kind, parent and options (tc -j; handles are the kernel's choice), and where an ingress redirects to.
            lines.AddRange(TcOracle.Qdiscs(ns, link.Name).Where(q => q.Kind != "noqueue")
                .Select(q => $"qdisc {link.Name} {q.Kind} parent {(q.Root ? "root" : q.Parent)} {q.Options}"));
            if (TcOracle.Ingress(ns, link.Name) is not null)
                lines.AddRange(TcOracle.IngressRedirects(ns, link.Name).Select(r => $"redirect {link.Name} {r.MirredAction} {r.Direction} {r.ToDevice}"));
        }
        lines.AddRange(Oracle.Addresses(ns).Where(a => !a.Address.IsIPv6LinkLocal).Select(a => $"address {a.Link} {a.Address}/{a.PrefixLength}"));
        lines.AddRange(Oracle.Routes(ns).Where(r => r.Protocol != "kernel")
            .Select(r => $"route {r.Destination}/{r.PrefixLength} via {r.Gateway} dev {r.Device} metric {r.Metric} type {r.Type}"));
        lines.AddRange(NatRules(ns));
        foreach (string key in new[] { "net.ipv4.ip_forward", "net.ipv6.conf.all.forwarding" })
            lines.Add($"sysctl {key} = {Oracle.Sysctl(ns, key)}");
        return lines.Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// The rule's expressions with the address family of snat/dnat statements left out: in an inet table (vnet's) the
    /// statement names it, in an ip table (a hand-built lab's) the table implies it; both translate to the same rule.
    /// </summary>
    private static string WithoutFamily(JsonElement expressions)
    {
        var array = JsonNode.Parse(expressions.GetRawText())!.AsArray();
        foreach (var statement in array)
        {
            foreach (string nat in new[] { "snat", "dnat" })
                if (statement?[nat] is JsonObject target) target.Remove("family");
        }
        return array.ToJsonString();
    }

    /// <summary>Bridge timers, ids and counters that differ between two bridges built alike (ip -d -j link).</summary>
    private static readonly HashSet<string> Volatile =
    [
        "hello_timer", "tcn_timer", "topology_change_timer", "gc_timer", "bridge_id", "root_id", "root_port", "root_path_cost",
        "topology_change", "topology_change_detected",
    ];

    /// <summary>The kind's attributes as <c>ip -d -j</c> gives them (linkinfo.info_data), per-run bridge state left out.</summary>
    private static string KindData(OracleLink link) =>
        link.Details.TryGetProperty("linkinfo", out var info) && info.TryGetProperty("info_data", out var data)
            ? string.Join(",", data.EnumerateObject().Where(p => !Volatile.Contains(p.Name)).Select(p => $"{p.Name}={p.Value}"))
            : "-";

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
                rules.Add($"nat {hook} {WithoutFamily(rule.GetProperty("expr"))}");
        }
        return rules;
    }
}

/// <summary>
/// A test that needs the kernel to have several link kinds, each "KIND [ARGUMENTS]" as <c>ip link add ... type</c> takes
/// them: skipped, naming the first one missing (see <see cref="LinkKindFactAttribute"/>).
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class LinkKindsFactAttribute : FactAttribute
{
    public LinkKindsFactAttribute(params string[] kinds)
    {
        var missing = kinds.Select(k => k.Split(' ', 2)).Select(k => LinkKindFactAttribute.Missing(k[0], k.Length > 1 ? k[1] : ""));
        if (missing.FirstOrDefault(r => r is not null) is { } reason) Skip = reason;
    }
}
