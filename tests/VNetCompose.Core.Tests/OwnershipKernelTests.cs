using System.Text.Json.Nodes;
using VNetCompose.Core.Planning;
using VNetCompose.Netlink;
using VNetCompose.TestSupport;

namespace VNetCompose.Core.Tests;

/// <summary>
/// Ownership in the kernel objects, on the real kernel through the <c>vnet</c> program, with <c>ip</c> as the oracle:
/// a link a killed run created but did not mark is taken back by the next <c>up</c>; <c>down</c> deletes only namespaces
/// carrying the instance's marker (and the recorded inode) that hold nothing else; without its state file <c>down FILE</c>
/// finds the lab through those markers; two labs with the same instance name are refused.
/// </summary>
public sealed class OwnershipKernelTests : IDisposable
{
    private readonly SignalLab _lab = new();

    public void Dispose() => _lab.Dispose();

    private string Ns(string shortName) => _lab.Sandbox.Name(shortName);

    private static string LoAlias(string ns) =>
        JsonNode.Parse(ProcessRunner.RunChecked("ip", "-n", ns, "-j", "link", "show", "lo"))![0]!["ifalias"]?.GetValue<string>() ?? "";

    private void Up() => _lab.Vnet(_lab.Sandboxed("up", "-q", _lab.File)).ExitCode.Should().Be(0);

    private void PlanIsEmpty() => _lab.Vnet(_lab.Sandboxed("plan", "--detailed-exitcode", _lab.File)).ExitCode.Should().Be(0);

    /// <summary>
    /// What a kill between creating the veth a/eth0 - b/eth0 and setting its aliases leaves, made with <c>ip</c> exactly as
    /// vnet's request makes it (each end with the instance's group, no alias), after a SIGKILL right before that step.
    /// </summary>
    [Fact]
    public void AVethKilledBeforeItsAliases_IsTakenBackByTheNextUp_AndDownLeavesNothing()
    {
        int veth = StepIndex(s => s is CreateLinkStep { Request.Name: "eth0" });
        var killed = _lab.Vnet(_lab.Sandboxed("up", "-q", _lab.File), veth.ToString(System.Globalization.CultureInfo.InvariantCulture), "KILL");
        killed.ExitCode.Should().Be(137);
        string group = Ownership.LinkGroup(_lab.Instance).ToString(System.Globalization.CultureInfo.InvariantCulture);
        ProcessRunner.RunChecked("ip", "-n", Ns("a"), "link", "add", "eth0", "mtu", "1500", "group", group,
            "type", "veth", "peer", "name", "eth0", "netns", Ns("b"), "group", group);

        var plan = _lab.Vnet(_lab.Sandboxed("plan", _lab.File));
        plan.ExitCode.Should().Be(0, plan.StandardError);
        plan.StandardOutput.Should().Contain($"~ link {Ns("a")}/eth0\n    alias: none -> vnet:{_lab.Instance}\n")
            .And.Contain($"(created for {_lab.Instance} (its group {group} says so) by a run that stopped before marking it)")
            .And.NotContain("!");
        Up();
        PlanIsEmpty();
        JsonNode.Parse(ProcessRunner.RunChecked("ip", "-n", Ns("b"), "-j", "link", "show", "eth0"))![0]!["ifalias"]!.GetValue<string>()
            .Should().Be("vnet:" + _lab.Instance);
        _lab.Vnet(["down", "-q", "--name", _lab.Instance]).ExitCode.Should().Be(0);
        _lab.Sandbox.Existing().Should().BeEmpty();
    }

    [Fact]
    public void UpMarksItsNamespaces_AndANamespaceDeletedAndCreatedAgainBySomeoneElse_SurvivesDown()
    {
        Up();
        foreach (var ns in new[] { "a", "b", "host" }) LoAlias(Ns(ns)).Should().Be("vnet-ns:" + _lab.Instance);
        ProcessRunner.RunChecked("ip", "netns", "del", Ns("b"));
        ProcessRunner.RunChecked("ip", "netns", "add", Ns("b"));
        ProcessRunner.RunChecked("ip", "-n", Ns("b"), "link", "add", "theirs", "type", "bridge");

        var down = _lab.Vnet(["down", "--name", _lab.Instance]);

        down.ExitCode.Should().Be(0, down.StandardError);
        down.StandardOutput.Should().NotContain($"- namespace {Ns("b")}");
        _lab.Sandbox.Existing().Should().Equal(Ns("b"));
        ProcessRunner.Run("ip", "-n", Ns("b"), "link", "show", "theirs").ExitCode.Should().Be(0, "their bridge is still there");
    }

    [Fact]
    public void AHandEditedStateFile_CannotMakeDownDeleteAnArbitraryNamespace()
    {
        string victim = _lab.Sandbox.Create("victim");
        Up();
        string path = Path.Combine(_lab.StateDirectory, _lab.Instance + ".json");
        var json = JsonNode.Parse(File.ReadAllText(path))!;
        json["namespaces"]!.AsArray().Add(victim);
        json["createdNamespaces"]!.AsArray().Add(victim);
        File.WriteAllText(path, json.ToJsonString());

        _lab.Vnet(["down", "-q", "--name", _lab.Instance]).ExitCode.Should().Be(0);

        _lab.Sandbox.Existing().Should().Equal(victim);
    }

    [Fact]
    public void TwoInstancesSharingANamespace_DownOfEach_LeavesTheOthersLabWhole_AndFinallyNothing()
    {
        // The signal lab (instance PREFIXsig) creates its 'host' namespace; a second lab uses it too.
        string second = Path.Combine(_lab.StateDirectory, "two.yaml");
        File.WriteAllText(second, """
            version: 1
            name: two
            namespaces:
              c: {}
            veths:
              - a: { namespace: c, name: eth0, addresses: [10.7.0.1/24] }
                b: { namespace: host, name: vc, addresses: [10.7.0.2/24] }
            """);
        string[] Second(params string[] arguments) => [.. arguments, second, "--host-netns", Ns("host"), "--prefix", _lab.Sandbox.Prefix];
        Up();
        _lab.Vnet(Second("up", "-q")).ExitCode.Should().Be(0);

        var downFirst = _lab.Vnet(["down", "-q", "--name", _lab.Instance]);

        downFirst.ExitCode.Should().Be(0, downFirst.StandardError);
        downFirst.StandardError.Should().Contain($"warning: namespace {Ns("host")} holds objects of vnet instance {_lab.Sandbox.Prefix}two: "
            + $"vnet removes only {_lab.Instance}'s objects from it and leaves it in place, to vnet instance {_lab.Sandbox.Prefix}two, whose down deletes it");
        _lab.Sandbox.Existing().Should().Equal(Ns("c"), Ns("host"));
        LoAlias(Ns("host")).Should().Be($"vnet-ns:{_lab.Sandbox.Prefix}two");
        _lab.Vnet(Second("plan", "--detailed-exitcode")).ExitCode.Should().Be(0, "the second lab is whole");
        _lab.Sandbox.Exec("c", "ping", "-c", "1", "-W", "2", "10.7.0.2").ExitCode.Should().Be(0);

        _lab.Vnet(["down", "-q", "--name", $"{_lab.Sandbox.Prefix}two"]).ExitCode.Should().Be(0);
        _lab.Sandbox.Existing().Should().BeEmpty();
    }

    [Fact]
    public void WithoutItsStateFile_DownOfTheTopologyFindsTheLabThroughTheKernelMarkers()
    {
        Up();
        File.Delete(Path.Combine(_lab.StateDirectory, _lab.Instance + ".json"));

        var down = _lab.Vnet(_lab.Sandboxed("down", _lab.File));

        down.ExitCode.Should().Be(0, down.StandardError);
        down.StandardOutput.Should().Contain($"- namespace {Ns("a")}\n").And.Contain($"- namespace {Ns("b")}\n").And.Contain($"- namespace {Ns("host")}\n");
        _lab.Sandbox.Existing().Should().BeEmpty();
        _lab.Vnet(["down", "--name", _lab.Instance]).StandardError.Should()
            .StartWith($"error: no instance {_lab.Instance} is known").And.Contain("'vnet down FILE'");
    }

    [Fact]
    public void AnInstanceNameHeldByAnotherTopologyAndPrefix_IsRefused_InOneLine()
    {
        // The lab is instance PREFIXsig: topology 'sig' with --prefix PREFIX. Topology 'PREFIXsig' without a prefix is the same instance.
        string other = Path.Combine(_lab.StateDirectory, "other.yaml");
        File.WriteAllText(other, $"version: 1\nname: {_lab.Instance}\nnamespaces:\n  {_lab.Sandbox.Prefix}z: {{}}\n");
        Up();
        foreach (var command in new[] { "plan", "up", "down" })
        {
            var refused = _lab.Vnet([command, other, "--host-netns", Ns("host")]);
            refused.ExitCode.Should().Be(1);
            refused.StandardError.Should().Be($"error: instance {_lab.Instance} is up as topology 'sig' with --prefix '{_lab.Sandbox.Prefix}' ({_lab.File}); "
                + $"this is topology '{_lab.Instance}' without a prefix, and the two would own each other's objects: choose another --prefix, or take that lab down first\n");
        }
        PlanIsEmpty();
        _lab.Sandbox.Existing().Should().Equal(Ns("a"), Ns("b"), Ns("host"));
    }

    /// <summary>The position of the first step of the lab's plan (on an empty kernel) that <paramref name="match"/> selects.</summary>
    private int StepIndex(Func<KernelStep, bool> match)
    {
        using var kernel = new NetlinkKernel();
        var engine = new VNetEngine(kernel, new VNetEngineSettings { StateDirectory = _lab.StateDirectory });
        var topology = Model.TopologyLoader.LoadFile(_lab.File).Topology!;
        var steps = engine.Plan(topology, new LabOptions(_lab.Sandbox.Name("host"), _lab.Sandbox.Prefix)).Steps.ToList();
        return steps.FindIndex(s => match(s));
    }
}
