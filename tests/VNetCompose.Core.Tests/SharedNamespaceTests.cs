using System.Diagnostics;
using VNetCompose.Core.Apply;
using VNetCompose.Testing;
using VNetCompose.TestSupport;
using static VNetCompose.Core.Tests.Topologies;

namespace VNetCompose.Core.Tests;

/// <summary>
/// Runs sharing a namespace that does not exist yet (parallel <c>up</c>s with one new --host-netns): the first to
/// create it owns it, the others use it as they would a pre-existing one; none fails, none claims it.
/// </summary>
public sealed class SharedNamespaceTests
{
    [Fact]
    public void ANamespaceCreatedByAnotherProcessBetweenPlanAndApply_IsUsed_NotOwnedNorUndone()
    {
        using var state = new TempStateDir();
        var kernel = new InMemoryKernel();
        var engine = new VNetEngine(kernel, state.Settings);
        var options = new LabOptions("sbx", "p-");
        // Step 0 creates sbx; the other process does it first.
        var result = engine.Up(Docker0(), options, new UpOptions(Progress: new AtStep(0, () => kernel.CreateNamespace("sbx"))));

        result.Status.Should().Be(UpStatus.Applied);
        result.Outcome!.CreatedByOthers.Should().Equal("sbx");
        engine.Store.Read("p-docker0-lab")!.Holdings.CreatedNamespaces.Should().Equal("p-ubuntu1", "p-ubuntu2");
        engine.Plan(Docker0(), options).HasChanges.Should().BeFalse();
        engine.Down("p-docker0-lab").Status.Should().Be(DownStatus.Removed);
        kernel.ListNamespaces().Should().Equal("sbx");
    }

    [Fact]
    public void ARolledBackRun_NeverDeletesANamespaceAnotherProcessCreated()
    {
        using var state = new TempStateDir();
        var kernel = new InMemoryKernel();
        var engine = new VNetEngine(kernel, state.Settings);
        kernel.FailWrite(6, Kernel.Errnos.EPERM); // a later step fails: rollback
        var result = engine.Up(Docker0(), new LabOptions("sbx", "p-"), new UpOptions(Progress: new AtStep(0, () => kernel.CreateNamespace("sbx"))));
        result.Status.Should().Be(UpStatus.Failed);
        result.Outcome!.RolledBack.Should().BeTrue();
        kernel.ListNamespaces().Should().Equal("sbx");
    }

    [Fact]
    public void AHalfCreatedNamespaceOfAnotherProcess_IsWaitedFor_AndNeverAdvisedForDeletion()
    {
        using var state = new TempStateDir();
        var kernel = new InMemoryKernel();
        var engine = new VNetEngine(kernel, state.Settings);
        kernel.CreateBrokenNamespace("sbx");
        var plan = engine.Plan(Docker0(), new LabOptions("sbx", "p-"));
        plan.CanApply.Should().BeFalse();
        string.Join("\n", plan.Problems).Should()
            .Contain("/run/netns/sbx exists but is not a mounted network namespace, and vnet did not create it")
            .And.NotContain("ip netns del").And.NotContain("remove it");
        kernel.ListNamespaces().Should().Equal("sbx");
    }

    /// <summary>Six vnet processes at once, each its own lab (prefix) with a veth into one new --host-netns.</summary>
    [Fact]
    public async Task SixParallelUps_SharingOneNewHostNetns_AllSucceed_AndOneOwnsIt()
    {
        using var sandbox = new SandboxNamespaces();
        using var state = new TempStateDir();
        string shared = sandbox.Name("shared");
        const int Runs = 6;
        var files = Enumerable.Range(1, Runs).Select(i =>
        {
            string file = Path.Combine(state.Path, $"par{i}.yaml");
            File.WriteAllText(file, $$"""
                version: 1
                name: par
                namespaces:
                  a: {}
                veths:
                  - a: { namespace: a, name: eth0, addresses: [10.0.{{i}}.1/24] }
                    b: { namespace: host, name: v{{i}}, addresses: [10.0.{{i}}.2/24] }
                """);
            return file;
        }).ToArray();
        string Prefix(int i) => $"{sandbox.Prefix}{i}-";
        CommandResult Vnet(params string[] arguments)
        {
            var result = ProcessRunner.Run("env", ["VNET_STATE_DIR=" + state.Path, "dotnet", Path.Combine(AppContext.BaseDirectory, "vnet.dll"), .. arguments],
                TimeSpan.FromSeconds(90));
            return result;
        }

        var ups = Enumerable.Range(1, Runs)
            .Select(i => Task.Run(() => Vnet("up", "-q", files[i - 1], "--host-netns", shared, "--prefix", Prefix(i)))).ToArray();
        foreach (var up in await Task.WhenAll(ups).WaitAsync(TimeSpan.FromSeconds(120))) up.ExitCode.Should().Be(0, up.StandardError);
        for (int i = 1; i <= Runs; i++)
            Vnet("plan", "--detailed-exitcode", files[i - 1], "--host-netns", shared, "--prefix", Prefix(i)).ExitCode.Should().Be(0);
        Directory.GetFiles(state.Path, "*.json").Count(f =>
            {
                using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(f));
                return json.RootElement.GetProperty("createdNamespaces").EnumerateArray().Any(n => n.GetString() == shared);
            })
            .Should().Be(1, "the run that created it owns it; the others use it");

        for (int i = Runs; i >= 1; i--) Vnet("down", "-q", "--name", $"{Prefix(i)}par").ExitCode.Should().Be(0);
        sandbox.Existing().Should().BeEmpty();
    }
}
