using System.Net;
using VNetCompose.Core.Planning;
using VNetCompose.Core.Rendering;
using VNetCompose.Testing;
using VNetCompose.Kernel;
using VNetCompose.Model;
using static VNetCompose.Core.Tests.Topologies;

namespace VNetCompose.Core.Tests;

/// <summary>
/// NAT through the engine on the in-memory kernel: plan lines in the topology's words, drift of hand-edited
/// rules, forwarding and its restoration, ownership of the table, conflict warnings.
/// </summary>
public sealed class NatPlanningTests : IDisposable
{
    private const string Table = "vnet-docker0-lab";
    private static readonly NetnsId Sbx = NetnsId.Named("sbx");
    private static readonly LabOptions Sandboxed = new("sbx");
    private readonly TempStateDir _state = new();
    private readonly InMemoryKernel _kernel = new();
    private readonly VNetEngine _engine;

    public NatPlanningTests() => _engine = new VNetEngine(_kernel, _state.Settings);

    public void Dispose() => _state.Dispose();

    private static NatRuleState DockerMasquerade => new(NatChain.Postrouting, NatVerdictKind.Masquerade,
        IPNetwork.Parse("172.17.0.0/16"), OutInterface: new NatInterface("docker0", Negated: true));

    private string PlanText(Topology topology) => PlanTextRenderer.Render(_engine.Plan(topology, Sandboxed));

    private void Up(Topology topology) => _engine.Up(topology, Sandboxed).Status.Should().Be(UpStatus.Applied);

    /// <summary>Only the sandbox host exists beforehand (created by the test, so vnet never deletes it).</summary>
    private void PreExistingHost() => _kernel.CreateNamespace("sbx");

    [Fact]
    public void Plan_Docker0_ShowsTheRuleInTheTopologysWords_AndTheForwardingItNeeds()
    {
        PlanText(Docker0()).Should().Be("""
            + namespace sbx
                lo up = true
            + namespace ubuntu1
                lo up = true
            + namespace ubuntu2
                lo up = true
            + link sbx/docker0
                kind = bridge
            + veth ubuntu1/eth0 <-> sbx/vethd52f2b1
                sbx/vethd52f2b1 master = docker0
            + veth ubuntu2/eth0 <-> sbx/vethbb7c5c5
                sbx/vethbb7c5c5 master = docker0
            + address 172.17.0.1/16 on sbx/docker0
            + address 172.17.0.2/16 on ubuntu1/eth0
            + address 172.17.0.3/16 on ubuntu2/eth0
            + route default in ubuntu1
                via = 172.17.0.1
            + route default in ubuntu2
                via = 172.17.0.1
            + sysctl net.ipv4.ip_forward in sbx
                value = 1
                (needed by nat rules)
            + nat masquerade 172.17.0.0/16 out !docker0 in sbx
                table = inet vnet-docker0-lab

            Plan: 13 to create, 0 to change, 0 to delete.

            """.Replace("\r", ""));
        _engine.Plan(Docker0(), Sandboxed).Steps.Select(s => s.Describe()).TakeLast(2).Should().Equal(
            "write sysctl net.ipv4.ip_forward=1 in sbx",
            "replace nat table vnet-docker0-lab in sbx (1 rules)");
    }

    [Fact]
    public void Up_WritesTheTable_SetsForwarding_RecordsTheOldValue_AndDownUndoesBoth()
    {
        PreExistingHost();
        Up(Docker0());
        _kernel.ReadNatTable(Sbx, Table)!.Rules.Should().Equal(DockerMasquerade);
        _kernel.ReadSysctl(Sbx, "net.ipv4.ip_forward").Should().Be("1");
        _engine.Store.Read("docker0-lab")!.Holdings.Sysctls.Should().Equal(new SysctlOriginal(Sbx, "net.ipv4.ip_forward", "0"));
        _engine.Plan(Docker0(), Sandboxed).HasChanges.Should().BeFalse();

        PlanTextRenderer.Render(_engine.TeardownPlan(Docker0(), Sandboxed)).Should().Be("""
            - namespace ubuntu1
            - namespace ubuntu2
            - link sbx/docker0
                kind = bridge
            ~ sysctl net.ipv4.ip_forward in sbx
                value: 1 -> 0
                (restore the value found before vnet changed it)
            - nat masquerade 172.17.0.0/16 out !docker0 in sbx
                table = inet vnet-docker0-lab

            Plan: 0 to create, 1 to change, 4 to delete.

            """.Replace("\r", ""));
        _engine.Down(Docker0(), Sandboxed).Status.Should().Be(DownStatus.Removed);
        _kernel.ReadNatTable(Sbx, Table).Should().BeNull();
        _kernel.ReadSysctl(Sbx, "net.ipv4.ip_forward").Should().Be("0");
        _kernel.ListNamespaces().Should().Equal("sbx");
    }

    [Fact]
    public void ForwardingAlreadyOn_IsNotChanged_AndNotRestoredByDown()
    {
        PreExistingHost();
        _kernel.WriteSysctl(Sbx, "net.ipv4.ip_forward", "1");
        Up(Docker0());
        _engine.Store.Read("docker0-lab")!.Holdings.Sysctls.Should().BeEmpty();
        _engine.Down(Docker0(), Sandboxed);
        _kernel.ReadSysctl(Sbx, "net.ipv4.ip_forward").Should().Be("1");
    }

    [Fact]
    public void RuleChangedByHand_IsAChangedRule_InPlanAndStatus_AndUpReplacesTheTable()
    {
        Up(Docker0());
        _kernel.ReplaceNatTable(Sbx, new NatTableState(Table, [DockerMasquerade with { Source = IPNetwork.Parse("172.18.0.0/16") }]));

        PlanText(Docker0()).Should().Be("""
            ~ nat masquerade 172.17.0.0/16 out !docker0 in sbx
                rule: masquerade 172.18.0.0/16 out !docker0 -> masquerade 172.17.0.0/16 out !docker0

            Plan: 0 to create, 1 to change, 0 to delete.

            """.Replace("\r", ""));
        _engine.Status(Docker0(), Sandboxed).Rows.Where(r => r.State != ObjectState.Ok)
            .Select(r => $"{r.Object} | {r.State} | {r.Detail}").Should().Equal(
                "nat masquerade 172.17.0.0/16 out !docker0 in sbx | Drifted | rule masquerade 172.18.0.0/16 out !docker0 -> masquerade 172.17.0.0/16 out !docker0");

        var repair = _engine.Up(Docker0(), Sandboxed);
        repair.Status.Should().Be(UpStatus.Applied);
        repair.KernelWrites.Should().Be(1, "the table is replaced in one transaction");
        _kernel.ReadNatTable(Sbx, Table)!.Rules.Should().Equal(DockerMasquerade);
    }

    [Fact]
    public void RuleDeletedAndRuleAddedByHand_AreMissingAndExtra()
    {
        var topology = Docker0() with { Nat = [Masquerade("host", "172.17.0.0/16", "!docker0"), PortForward("host", 8080, "172.17.0.2", 80, inIf: "wan0")] };
        Up(topology);
        var forward = new NatRuleState(NatChain.Prerouting, NatVerdictKind.Dnat, InInterface: new NatInterface("wan0", false),
            L4Protocol: 6, DestinationPort: 8080, ToAddress: IPAddress.Parse("172.17.0.2"), ToPort: 80);
        var foreign = new NatRuleState(NatChain.Postrouting, NatVerdictKind.Snat, IPNetwork.Parse("10.0.0.0/8"), ToAddress: IPAddress.Parse("192.0.2.1"));
        _kernel.ReplaceNatTable(Sbx, new NatTableState(Table, [DockerMasquerade, foreign]));

        PlanText(topology).Should().Be("""
            - nat snat 10.0.0.0/8 to 192.0.2.1 in sbx
                table = inet vnet-docker0-lab
                (not in the topology)
            + nat port_forward tcp 8080 to 172.17.0.2:80 in wan0 in sbx
                table = inet vnet-docker0-lab

            Plan: 1 to create, 0 to change, 1 to delete.

            """.Replace("\r", ""));
        _engine.Status(topology, Sandboxed).Rows.Where(r => r.State != ObjectState.Ok)
            .Select(r => $"{r.Object} | {r.State} | {r.Detail}").Should().Equal(
                "nat port_forward tcp 8080 to 172.17.0.2:80 in wan0 in sbx | Missing | ",
                "nat snat 10.0.0.0/8 to 192.0.2.1 in sbx | Drifted | present, not in the topology");
        Up(topology);
        _kernel.ReadNatTable(Sbx, Table)!.Rules.Should().Equal(DockerMasquerade, forward);
    }

    [Fact]
    public void RulesInAnotherOrder_ShowAsAMove()
    {
        var second = Masquerade("host", "10.0.0.0/8");
        var topology = Docker0() with { Nat = [Masquerade("host", "172.17.0.0/16", "!docker0"), second] };
        Up(topology);
        var rules = _kernel.ReadNatTable(Sbx, Table)!.Rules;
        _kernel.ReplaceNatTable(Sbx, new NatTableState(Table, [rules[1], rules[0]]));

        PlanText(topology).Should().Be("""
            ~ nat masquerade 10.0.0.0/8 in sbx
                position in postrouting: 1 -> 2
                (the first matching rule of a chain decides)

            Plan: 0 to create, 1 to change, 0 to delete.

            """.Replace("\r", ""));
        Up(topology);
        _kernel.ReadNatTable(Sbx, Table)!.Rules.Should().Equal(rules);
    }

    [Fact]
    public void RemovingRulesFromTheTopology_RemovesThem_AndWithTheLastOneTheTableAndTheForwarding()
    {
        PreExistingHost();
        var both = Docker0() with { Nat = [Masquerade("host", "172.17.0.0/16", "!docker0"), Snat("host", "10.0.0.0/8", "192.0.2.1", "wan0")] };
        Up(both);

        PlanText(Docker0()).Should().Be("""
            - nat snat 10.0.0.0/8 to 192.0.2.1 out wan0 in sbx
                table = inet vnet-docker0-lab
                (not in the topology)

            Plan: 0 to create, 0 to change, 1 to delete.

            """.Replace("\r", ""));
        Up(Docker0());
        _kernel.ReadNatTable(Sbx, Table)!.Rules.Should().Equal(DockerMasquerade);

        var withoutNat = Docker0() with { Nat = [] };
        PlanText(withoutNat).Should().Be("""
            ~ sysctl net.ipv4.ip_forward in sbx
                value: 1 -> 0
                (restore the value found before vnet changed it)
            - nat masquerade 172.17.0.0/16 out !docker0 in sbx
                table = inet vnet-docker0-lab

            Plan: 0 to create, 1 to change, 1 to delete.

            """.Replace("\r", ""));
        Up(withoutNat);
        _kernel.ReadNatTable(Sbx, Table).Should().BeNull();
        _kernel.ReadSysctl(Sbx, "net.ipv4.ip_forward").Should().Be("0");
        _engine.Store.Read("docker0-lab")!.Holdings.NatNamespaces.Should().BeEmpty();
    }

    [Fact]
    public void TableEmptiedByHand_HasItsRuleMissing_AndDownDeletesTheEmptyTable()
    {
        PreExistingHost();
        Up(Docker0());
        _kernel.ReplaceNatTable(Sbx, new NatTableState(Table, []));
        PlanText(Docker0()).Should().StartWith("""
            + nat masquerade 172.17.0.0/16 out !docker0 in sbx
            """.Replace("\r", ""));

        PlanTextRenderer.Render(_engine.TeardownPlan(Docker0(), Sandboxed)).Should().Contain("- nat table inet vnet-docker0-lab in sbx\n");
        _engine.Down(Docker0(), Sandboxed).Status.Should().Be(DownStatus.Removed);
        _kernel.ReadNatTable(Sbx, Table).Should().BeNull();
    }

    [Fact]
    public void ForeignTableWithTheInstancesName_IsAConflictForUp_AndDownLeavesIt()
    {
        PreExistingHost();
        _kernel.AddForeignNftTable(Sbx, new NftTableInfo("inet", Table, []));
        var up = _engine.Up(Docker0(), Sandboxed);
        up.Status.Should().Be(UpStatus.Refused);
        up.Plan.Conflicts.Should().ContainSingle().Which.Should().Be(new PlanConflict(new NatTableObject(NetnsId.Named("sbx"), "vnet-docker0-lab"),
            "a table of this name exists and was not created by vnet (it lacks vnet's marker); vnet leaves it untouched", At("nat[0]")));

        var down = _engine.TeardownPlan(Docker0(), Sandboxed);
        down.CanApply.Should().BeTrue();
        down.Warnings.Select(w => w.Message).Should().Equal(
            "nat table inet vnet-docker0-lab in sbx: a table of this name exists and was not created by vnet (it lacks vnet's marker); vnet leaves it untouched");
        down.Steps.Should().BeEmpty();
    }

    [Fact]
    public void OtherNatInTheNamespace_IsAWarning_NotAnError()
    {
        PreExistingHost();
        _kernel.AddForeignNftTable(Sbx, new NftTableInfo("ip", "nat",
            [new NftBaseChainInfo("POSTROUTING", "nat", "postrouting", 100), new NftBaseChainInfo("PREROUTING", "nat", "prerouting", -100)]));
        _kernel.AddForeignNftTable(Sbx, new NftTableInfo("inet", "late", [new NftBaseChainInfo("post", "nat", "postrouting", 300)]));
        _kernel.AddForeignNftTable(Sbx, new NftTableInfo("inet", "filter", [new NftBaseChainInfo("fwd", "filter", "forward", 0)]));
        _kernel.AddLegacyIptablesTable(Sbx, new IptablesLegacyTable("ip", "nat"));
        _kernel.AddLegacyIptablesTable(Sbx, new IptablesLegacyTable("ip", "filter"));
        _kernel.AddLegacyIptablesTable(Sbx, new IptablesLegacyTable("ip6", "nat"));

        var plan = _engine.Plan(Docker0(), Sandboxed);
        plan.CanApply.Should().BeTrue();
        plan.Warnings.Select(w => w.Message).Should().Equal(
            "nftables table ip nat in sbx has a nat postrouting chain at priority 100, like vnet's; its rules may translate the same packets",
            "legacy iptables nat table in sbx: its rules run alongside vnet's nftables table and may translate the same packets (iptables-legacy -t nat -L to see them)",
            "legacy ip6tables nat table in sbx: its rules run alongside vnet's nftables table and may translate the same packets (ip6tables-legacy -t nat -L to see them)");
        PlanTextRenderer.Render(plan).Should().Contain(
            "warning: nftables table ip nat in sbx has a nat postrouting chain at priority 100, like vnet's; its rules may translate the same packets\n");
    }

    [Fact]
    public void KernelWithoutNfTables_IsAnErrorNamingTheNatKey_OnlyWhenTheTopologyHasNatRules()
    {
        _kernel.NatSupported = false;
        _engine.Plan(Docker0() with { Nat = [] }, Sandboxed).CanApply.Should().BeTrue();

        var plan = _engine.Plan(Docker0(), Sandboxed);
        plan.Errors.Select(e => e.ToString()).Should().Equal(
            "t.yaml:1:1: error: nat[0]: NAT rules need nf_tables, which this kernel does not offer (opening a netfilter netlink socket in the current namespace: Protocol not supported (EPROTONOSUPPORT)); remove the nat rules or use a kernel with nf_tables");
        _engine.Up(Docker0(), Sandboxed).Status.Should().Be(UpStatus.Refused);
        _kernel.ListNamespaces().Should().BeEmpty();
    }

    public static TheoryData<string, string[]> ForwardingCases() => new()
    {
        { "masquerade without addresses", ["net.ipv4.ip_forward"] },
        { "IPv6 snat", ["net.ipv6.conf.all.forwarding"] },
        { "IPv4 and IPv6 rules", ["net.ipv4.ip_forward", "net.ipv6.conf.all.forwarding"] },
    };

    [Theory]
    [MemberData(nameof(ForwardingCases))]
    public void Forwarding_FollowsTheFamiliesOfTheRules(string rules, string[] expected)
    {
        NatRule[] nat = rules switch
        {
            "masquerade without addresses" => [new MasqueradeRule("r", null, null, null, At("nat[0]"))],
            "IPv6 snat" => [Snat("r", "fd00::/64", "fd01::1")],
            _ => [Masquerade("r", "10.0.0.0/8"), PortForward("r", 80, "fd00::2")],
        };
        var plan = _engine.Plan(Topology("fw", [Ns("r")], nat: nat), LabOptions.Default);
        plan.Changes.Where(c => c.Kind == "sysctl").Select(c => c.Object.ToString())
            .Should().Equal(expected.Select(k => $"sysctl {k} in r"));
    }

    [Fact]
    public void ForwardingSetByTheTopology_IsLeftAsDeclared()
    {
        var topology = Topology("fw", [Ns("r", sysctls: [Sysctl("net.ipv4.ip_forward", "0")])], nat: [Masquerade("r", "10.0.0.0/8")]);
        PlanTextRenderer.Render(_engine.Plan(topology, LabOptions.Default)).Should().Contain("""
            + sysctl net.ipv4.ip_forward in r
                value = 0

            """.Replace("\r", ""));
    }

    [Fact]
    public void PortForwardWithADestination_IsTwoRules_ForForwardedAndLocalTraffic()
    {
        var topology = Topology("pf", [Ns("r")], nat: [PortForward("r", 8080, "10.0.2.2", 80, destination: "10.0.1.1/32")]);
        var plan = _engine.Plan(topology, LabOptions.Default);
        plan.Changes.Where(c => c.Kind == "nat_rule").Select(c => c.Object.ToString()).Should().Equal(
            "nat port_forward tcp 8080 to 10.0.2.2:80 destination 10.0.1.1/32 in r",
            "nat port_forward tcp 8080 to 10.0.2.2:80 destination 10.0.1.1/32 (output chain) in r");
        plan.Steps.OfType<ReplaceNatTableStep>().Should().ContainSingle().Which.Table.Rules.Should().HaveCount(2);
        using var json = System.Text.Json.JsonDocument.Parse(PlanJsonRenderer.Render(plan));
        json.RootElement.GetProperty("changes").EnumerateArray().Last().GetProperty("kind").GetString().Should().Be("nat_rule");
    }

    [Fact]
    public void FailedNatStep_RollsBackTheRun()
    {
        PreExistingHost();
        string before = _kernel.Dump();
        int natStep = _engine.Plan(Docker0(), Sandboxed).Steps.ToList().FindIndex(s => s is ReplaceNatTableStep);
        _kernel.FailWrite(_kernel.Writes + natStep + 1, Errnos.EINVAL); // each step is one write
        var result = _engine.Up(Docker0(), Sandboxed);
        result.Status.Should().Be(UpStatus.Failed);
        result.Outcome!.Failure!.Step.Should().BeOfType<ReplaceNatTableStep>();
        result.Outcome.Failure.Change.Object.ToString().Should().Be("nat masquerade 172.17.0.0/16 out !docker0 in sbx");
        _kernel.Dump().Should().Be(before);
    }
}
