using System.Text.Json;
using VNetCompose.TestSupport;

namespace VNetCompose.Cli.Tests;

/// <summary>
/// <c>vnet status --name INSTANCE</c> lists every object the instance owns, from its state file and the kernel's
/// ownership marks alone: namespaces, links (a veth pair as one), addresses, routes, NAT table and rules, qdiscs; each
/// checked against what ip, nft and tc show.
/// </summary>
public sealed class StatusByNameTests : IDisposable
{
    private readonly Vnet _vnet = new();
    private readonly SandboxNamespaces _sandbox = new();

    public void Dispose()
    {
        try
        {
            foreach (string topology in new[] { "docker0", "slow-link" }) _vnet.Run("down", "-q", "--name", _sandbox.Prefix + topology);
        }
        finally
        {
            _sandbox.Dispose();
            _vnet.Dispose();
        }
    }

    [Fact]
    public void StatusByName_ListsEveryOwnedObject_AsTheKernelHasIt()
    {
        string host = _sandbox.Name("host");
        _vnet.Run("up", "-q", Vnet.Topology("docker0.yaml"), "--prefix", _sandbox.Prefix, "--host-netns", host).EnsureSuccess();
        _vnet.Run("up", "-q", Vnet.Topology("slow-link.yaml"), "--prefix", _sandbox.Prefix, "--host-netns", _sandbox.Name("host2")).EnsureSuccess();

        var docker = Objects("docker0");
        string u1 = _sandbox.Name("ubuntu1"), u2 = _sandbox.Name("ubuntu2");
        docker.Should().Contain([
            ("namespace", $"namespace {host}", "created by vnet"),
            ("link", $"link {host}/docker0", "bridge, up"),
            ("veth", $"veth {host}/vethd52f2b1 <-> {u1}/eth0", "veth pair, up"),
            ("address", $"address 172.17.0.1/16 on {host}/docker0", "on an owned link"),
            ("route", $"route default in {u2}", "via 172.17.0.1 dev eth0"),
            ("nat_table", $"nat table inet vnet-{_sandbox.Prefix}docker0 in {host}", "1 rule(s)"),
            ("nat_rule", $"nat masquerade 172.17.0.0/16 out !docker0 in {host}", "postrouting chain"),
        ]);
        // The oracles: every owned link and address ip shows is listed, and the NAT table nft shows.
        foreach (string ns in new[] { host, u1, u2 })
        {
            foreach (var link in Oracle.Links(ns).Where(l => l.Alias == "vnet:" + _sandbox.Prefix + "docker0"))
                docker.Should().Contain(o => o.Object.Contains($"{ns}/{link.Name}", StringComparison.Ordinal), $"{ns}/{link.Name} is owned");
            foreach (var address in Oracle.Addresses(ns).Where(a => a.Link != "lo" && !a.Address.IsIPv6LinkLocal))
                docker.Should().Contain(o => o.Object == $"address {address.Address}/{address.PrefixLength} on {ns}/{address.Link}");
        }
        NftOracle.Tables(host).Should().Contain($"inet vnet-{_sandbox.Prefix}docker0");
        docker.Select(o => o.Object).Should().OnlyHaveUniqueItems();

        var shaped = Objects("slow-link");
        string client = _sandbox.Name("client");
        shaped.Should().Contain(o => o.Kind == "qdisc" && o.Object == $"egress of {client}/eth0" && o.Detail.StartsWith("tbf rate 20mbit", StringComparison.Ordinal));
        shaped.Should().Contain(o => o.Kind == "qdisc" && o.Object == $"ingress of {client}/eth0" && o.Detail.StartsWith("tbf rate 5mbit", StringComparison.Ordinal)
            && o.Detail.EndsWith("on ifb-eth0", StringComparison.Ordinal));
        ProcessRunner.RunChecked("tc", "-n", client, "qdisc", "show", "dev", "eth0").Should().Contain("qdisc tbf 5601: root");
        shaped.Should().Contain(o => o.Object == $"link {client}/ifb-eth0");
    }

    [Fact]
    public void PlanJson_IdentifiesEveryObjectByFields_ThatSayWhatItsTextSays()
    {
        var plan = _vnet.Run("plan", "-o", "json", Vnet.Topology("router.yaml"), "--prefix", _sandbox.Prefix, "--host-netns", _sandbox.Name("host"));
        plan.ExitCode.Should().Be(0, plan.StandardError);
        using var json = OutputSchemas.Validate(plan.StandardOutput, "plan");
        var changes = json.RootElement.GetProperty("changes").EnumerateArray().ToList();
        changes.Should().NotBeEmpty();
        foreach (var change in changes)
        {
            string kind = change.GetProperty("kind").GetString()!, text = change.GetProperty("object").GetString()!;
            string ns = change.GetProperty("namespace").GetString()!, name = change.GetProperty("name").GetString()!;
            var fields = change.TryGetProperty("fields", out var f) ? f.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!) : [];
            string expected = kind switch
            {
                "namespace" => $"namespace {name}",
                "veth" => $"veth {fields["a"]} <-> {fields["b"]}",
                "address" => $"address {fields["address"]} on {ns}/{fields["link"]}",
                "route" => $"route {name} in {ns}",
                "sysctl" => $"sysctl {name} in {ns}",
                _ => $"{kind} {ns}/{name}",
            };
            text.Should().Be(expected, "the fields identify the object the text names");
        }
        changes.Select(c => c.GetProperty("kind").GetString()).Distinct().Should().BeEquivalentTo(["namespace", "veth", "address", "route", "sysctl"]);
    }

    /// <summary>The objects of <c>status --name</c>, from its JSON (validated against its schema): kind, display text, detail.</summary>
    private List<(string Kind, string Object, string Detail)> Objects(string topology)
    {
        var result = _vnet.Run("status", "--name", _sandbox.Prefix + topology, "-o", "json");
        result.ExitCode.Should().Be(0, result.StandardError);
        using var json = OutputSchemas.Validate(result.StandardOutput, "status");
        var objects = json.RootElement.GetProperty("objects").EnumerateArray().ToList();
        objects.Should().OnlyContain(o => o.GetProperty("state").GetString() == "ok");
        // Each object also carries its identity as fields: its namespace and name.
        objects.Where(o => !o.TryGetProperty("namespace", out var ns) || !o.TryGetProperty("name", out var name)).Should().BeEmpty();
        return objects.Select(o => (o.GetProperty("kind").GetString()!, o.GetProperty("object").GetString()!, o.GetProperty("detail").GetString()!)).ToList();
    }
}
