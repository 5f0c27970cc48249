using System.Diagnostics;
using VNetCompose.Core;
using VNetCompose.Core.State;
using VNetCompose.Fixtures.Tests.Support;
using VNetCompose.Testing;
using VNetCompose.TestSupport;

namespace VNetCompose.Fixtures.Tests;

/// <summary>
/// Leak-proof labs: a lab belongs to the process that made it, and when that process dies without tearing it
/// down — killed with SIGKILL, SIGTERM, Ctrl+C, exiting, or crashing on an unhandled exception — its reaper removes it within the promised
/// <see cref="Promise"/>; the next fixture start and <c>vnet gc</c> do at the latest; labs of <c>vnet up</c>
/// are never reaped. Checked with <c>ip netns list</c> and the state directory.
/// </summary>
public sealed class ReapingTests
{
    /// <summary>What the README promises: a killed owner's lab is gone within this time.</summary>
    private static readonly TimeSpan Promise = TimeSpan.FromSeconds(5);

    [RootTheory]
    [InlineData("SIGKILL")]
    [InlineData("SIGTERM")]
    [InlineData("SIGINT to its process group, as Ctrl+C in a terminal")]
    [InlineData("exit without disposing")]
    [InlineData("an unhandled exception")]
    public async Task LabOfAnOwnerThatDies_IsRemovedByTheReaper(string death)
    {
        using var state = new TempStateDir();
        using var owner = LabHostProcess.Start(Labs.TwoNamespacesPath, "fxkill", state.Path, ownProcessGroup: death.StartsWith("SIGINT", StringComparison.Ordinal));
        var (prefix, instance) = await owner.WaitUntilUp();
        Labs.NamespacesWithPrefix(prefix).Should().HaveCount(3);
        state.Files().Should().Contain(instance + ".json");

        var clock = Stopwatch.StartNew();
        switch (death)
        {
            case "SIGKILL": ProcessRunner.RunChecked("kill", "-KILL", owner.Pid.ToString()); break;
            case "SIGTERM": ProcessRunner.RunChecked("kill", "-TERM", owner.Pid.ToString()); break;
            case "exit without disposing": owner.Send("exit"); break;
            case "an unhandled exception": owner.Send("throw"); break;
            default: ProcessRunner.RunChecked("kill", "-INT", "--", "-" + owner.Pid); break;
        }
        await owner.WaitForExit();

        (await Labs.Eventually(() => Labs.NamespacesWithPrefix(prefix).Count == 0 && state.Files().Count == 0, Promise))
            .Should().BeTrue($"within {Promise.TotalSeconds} s: left {string.Join(", ", Labs.NamespacesWithPrefix(prefix).Concat(state.Files()))}");
        TestContext.Current.TestOutputHelper!.WriteLine($"{death}: lab gone {clock.ElapsedMilliseconds} ms after the signal");
    }

    [RootFact]
    public async Task OwnerThatDisposes_LeavesNothing_AndItsReaperExits()
    {
        using var state = new TempStateDir();
        using var owner = LabHostProcess.Start(Labs.TwoNamespacesPath, "fxclean", state.Path);
        var (prefix, _) = await owner.WaitUntilUp();
        int reaper = await ReaperOf(owner.Pid);

        owner.Send("dispose");
        await owner.WaitForExit();
        Labs.NamespacesWithPrefix(prefix).Should().BeEmpty();
        state.Files().Should().BeEmpty();
        (await Labs.Eventually(() => !Directory.Exists($"/proc/{reaper}"), Promise)).Should().BeTrue("the reaper exits with its owner");
    }

    [RootFact]
    public async Task LabOfADeadOwnerWithoutReaper_IsRemovedByTheNextFixtureStart()
    {
        using var state = new TempStateDir();
        var (owner, prefix, _) = await OrphanWithoutReaper(state);
        using var cleanup = owner;

        await using (var next = await LabFixture.UpAsync(Labs.TwoNamespaces(), LabOptions.Isolated("fxnext"), null, null, state.Settings,
            TestContext.Current.CancellationToken))
        {
            Labs.NamespacesWithPrefix(prefix).Should().BeEmpty("the fixture start reaped it first");
            state.Files().Should().OnlyContain(f => f.StartsWith(next.Instance, StringComparison.Ordinal));
        }
        state.Files().Should().BeEmpty();
    }

    [RootFact]
    public async Task VnetGcAndLs_ShowAndRemoveTheLabOfADeadOwner_NeverOneOfVnetUp()
    {
        using var state = new TempStateDir();
        var (owner, prefix, instance) = await OrphanWithoutReaper(state);
        using var cleanup = owner;
        var cliOptions = LabOptions.Isolated("fxcli");
        using (var kernel = new Netlink.NetlinkKernel())
        {
            new VNetEngine(kernel, state.Settings).Up(Labs.TwoNamespaces(), cliOptions, null, TestContext.Current.CancellationToken).Succeeded.Should().BeTrue();
        }
        try
        {
            var ls = Vnet(state, "ls");
            ls.StandardOutput.Should().MatchRegex($@"{instance} .* pid \d+ +no ");
            ls.StandardOutput.Should().MatchRegex($@"{cliOptions.Prefix}two-namespaces .* - +- ");

            var dry = Vnet(state, "gc", "--dry-run", "-o", "json");
            dry.ExitCode.Should().Be(0, dry.StandardError);
            using (var json = System.Text.Json.JsonDocument.Parse(dry.StandardOutput))
            {
                json.RootElement.GetProperty("dry_run").GetBoolean().Should().BeTrue();
                var lab = json.RootElement.GetProperty("labs").EnumerateArray().Single();
                lab.GetProperty("instance").GetString().Should().Be(instance);
                lab.GetProperty("owner").GetProperty("pid").GetInt32().Should().Be(owner.Pid);
                lab.GetProperty("owner").GetProperty("alive").GetBoolean().Should().BeFalse();
                lab.GetProperty("removed").GetBoolean().Should().BeFalse();
            }
            Labs.NamespacesWithPrefix(prefix).Should().HaveCount(3, "--dry-run removes nothing");

            var gc = Vnet(state, "gc");
            gc.ExitCode.Should().Be(0, gc.StandardError);
            gc.StandardOutput.Should().MatchRegex($@"gc: removed {instance} \(owner pid \d+ is gone\)");
            Labs.NamespacesWithPrefix(prefix).Should().BeEmpty();
            Labs.NamespacesWithPrefix(cliOptions.Prefix!).Should().HaveCount(3, "vnet up's lab belongs to no process");
            Vnet(state, "gc").StandardOutput.Should().Be("gc: no lab of a dead process is left.\n");
        }
        finally
        {
            Vnet(state, "down", "--name", cliOptions.InstanceName("two-namespaces")).ExitCode.Should().Be(0);
        }
        state.Files().Should().BeEmpty();
    }

    [Fact]
    public void Reaper_RemovesOnlyLabsOfDeadOwners()
    {
        using var state = new TempStateDir();
        var kernel = new InMemoryKernel();
        var engine = new VNetEngine(kernel, state.Settings);
        var dead = LabOwner.Current with { StartTime = LabOwner.Current.StartTime + 1 }; // this pid, another start: a reused pid
        var elsewhere = LabOwner.Current with { StartTime = 1, PidNamespace = "pid:[1]" };
        engine.Up(Labs.TwoNamespaces(), new LabOptions("d-host", "d-"), new UpOptions(Owner: dead), TestContext.Current.CancellationToken);
        engine.Up(Labs.TwoNamespaces(), new LabOptions("a-host", "a-"), new UpOptions(Owner: LabOwner.Current), TestContext.Current.CancellationToken);
        engine.Up(Labs.TwoNamespaces(), new LabOptions("u-host", "u-"), new UpOptions(Owner: elsewhere), TestContext.Current.CancellationToken);
        engine.Up(Labs.TwoNamespaces(), new LabOptions("v-host", "v-"), null, TestContext.Current.CancellationToken);

        var reaped = new OrphanReaper(engine).Reap(TestContext.Current.CancellationToken);

        reaped.Should().ContainSingle().Which.Should().Match<ReapedInstance>(r => r.Removed && r.Record.Instance == "d-two-namespaces");
        kernel.ListNamespaces().Should().NotContain(n => n.StartsWith("d-", StringComparison.Ordinal)).And.HaveCount(9);
    }

    [Fact]
    public void Owner_IsJudgedByPidStartTimeBootAndPidNamespace()
    {
        var me = LabOwner.Current;
        me.Pid.Should().Be(Environment.ProcessId);
        me.Liveness().Should().Be(OwnerLiveness.Alive);
        (me with { StartTime = me.StartTime + 1 }).Liveness().Should().Be(OwnerLiveness.Dead, "a reused pid is not the owner");
        (me with { BootId = "another boot" }).Liveness().Should().Be(OwnerLiveness.Dead);
        (me with { PidNamespace = "pid:[1]" }).Liveness().Should().Be(OwnerLiveness.Unknown);
        using var exited = Process.Start("true")!;
        exited.WaitForExit();
        LabOwner.Of(exited.Id).Should().BeNull();
    }

    [Fact]
    public void StateFile_KeepsTheOwner()
    {
        using var state = new TempStateDir();
        var store = new StateStore(state.Path);
        var record = new InstanceRecord("x", "x", null, LabOptions.Default, Core.Planning.Holdings.None, DateTimeOffset.UnixEpoch, LabOwner.Current);
        store.Write(record);
        store.Read("x")!.Owner.Should().Be(LabOwner.Current);
        store.Write(record with { Owner = null });
        store.Read("x")!.Owner.Should().BeNull();
    }

    /// <summary>A lab whose owner was killed after its reaper: nothing reaped it yet. Disposing the returned
    /// owner deletes what is left of the lab (the test's own clean-up, after its checks).</summary>
    private static async Task<(LabHostProcess Owner, string Prefix, string Instance)> OrphanWithoutReaper(TempStateDir state)
    {
        var owner = LabHostProcess.Start(Labs.TwoNamespacesPath, "fxorphan", state.Path);
        var up = await owner.WaitUntilUp();
        ProcessRunner.RunChecked("kill", "-KILL", (await ReaperOf(owner.Pid)).ToString());
        ProcessRunner.RunChecked("kill", "-KILL", owner.Pid.ToString());
        await owner.WaitForExit();
        Labs.NamespacesWithPrefix(up.Prefix).Should().HaveCount(3);
        return (owner, up.Prefix, up.Instance);
    }

    /// <summary>The pid of the reaper watching <paramref name="owner"/> (its command line names the owner's pid).</summary>
    private static async Task<int> ReaperOf(int owner)
    {
        int found = 0;
        (await Labs.Eventually(() =>
        {
            foreach (var dir in Directory.EnumerateDirectories("/proc"))
            {
                if (!int.TryParse(Path.GetFileName(dir), out int pid)) continue;
                string[] argv;
                try
                {
                    argv = File.ReadAllText(Path.Combine(dir, "cmdline")).Split('\0');
                }
                catch (IOException)
                {
                    continue;
                }
                int verb = Array.IndexOf(argv, "--vnet-lab-reaper");
                if (verb >= 0 && argv[verb + 1] == "watch" && argv[verb + 2] == owner.ToString())
                {
                    found = pid;
                    return true;
                }
            }
            return false;
        }, TimeSpan.FromSeconds(30))).Should().BeTrue("the owner started a reaper");
        return found;
    }

    private static CommandResult Vnet(TempStateDir state, params string[] arguments)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "vnet.dll"));
        foreach (var a in arguments) psi.ArgumentList.Add(a);
        psi.Environment["VNET_STATE_DIR"] = state.Path;
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit(TimeSpan.FromSeconds(60)).Should().BeTrue();
        return new CommandResult("vnet " + string.Join(' ', arguments), process.ExitCode, stdout.Result, stderr.Result);
    }
}
