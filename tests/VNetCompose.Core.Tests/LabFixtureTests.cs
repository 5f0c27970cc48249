using VNetCompose.Testing;
using VNetCompose.Kernel;
using VNetCompose.TestSupport;
using static VNetCompose.Core.Tests.Topologies;

namespace VNetCompose.Core.Tests;

public sealed class LabFixtureTests
{
    [Fact]
    public void Dispose_TearsDownEverythingTheFixtureBroughtUp()
    {
        using var state = new TempStateDir();
        var kernel = new InMemoryKernel();
        string empty = kernel.Dump();
        using (var lab = LabFixture.Up(Docker0(), new LabOptions("sbx", "ci-"), kernel, state.Settings))
        {
            lab.Namespace("ubuntu1").Should().Be("ci-ubuntu1");
            lab.Namespace("host").Should().Be("sbx");
            kernel.ListNamespaces().Should().Equal("ci-ubuntu1", "ci-ubuntu2", "sbx");
        }
        kernel.Dump().Should().Be(empty);
    }

    [Fact]
    public void FailedUp_Throws_AndLeavesNothingBehind()
    {
        using var state = new TempStateDir();
        var kernel = new InMemoryKernel();
        string empty = kernel.Dump();
        kernel.FailWrite(5, Errnos.EPERM);
        var act = () => LabFixture.Up(Docker0(), new LabOptions("sbx", "ci-"), kernel, state.Settings with { });
        act.Should().Throw<InvalidOperationException>().WithMessage("vnet up of ci-docker0-lab failed (Failed): *EPERM*");
        kernel.Dump().Should().Be(empty);
    }

    [Fact]
    public async Task LabFromAFile_OnTheRealKernel_IsUsableAndGoneAfterDisposeAsync()
    {
        using var sandbox = new SandboxNamespaces();
        using var state = new TempStateDir();
        string file = Path.Combine(AppContext.BaseDirectory, "two.yaml");
        await File.WriteAllTextAsync(file, """
            version: 1
            name: two
            namespaces: { a: {}, b: {} }
            veths:
              - a: { namespace: a, name: eth0, addresses: [10.0.1.1/24] }
                b: { namespace: b, name: eth0, addresses: [10.0.1.2/24] }
            """);
        await using (var lab = LabFixture.Up(file, new LabOptions(sandbox.Name("host"), sandbox.Prefix), settings: state.Settings with { Timings = Apply.ReconcileTimings.Default }))
        {
            Ping.Between(lab.Namespace("a")!, "10.0.1.2").Should().BeTrue();
        }
        sandbox.Existing().Should().BeEmpty();
    }

    [Fact]
    public void InvalidFile_ThrowsWithEveryDiagnostic()
    {
        string file = Path.Combine(AppContext.BaseDirectory, "bad.yaml");
        File.WriteAllText(file, "version: 2\nname: Bad\n");
        var act = () => LabFixture.Up(file, kernel: new InMemoryKernel());
        act.Should().Throw<TopologyLoadException>().Which.Diagnostics.Should().HaveCountGreaterThan(1);
    }
}
