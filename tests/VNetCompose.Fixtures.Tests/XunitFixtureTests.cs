using VNetCompose.Fixtures.Tests.Support;
using VNetCompose.Xunit;

[assembly: AssemblyFixture(typeof(VNetCompose.Fixtures.Tests.AssemblyLab))]

namespace VNetCompose.Fixtures.Tests;

// The xunit package as a user writes it: one topology, one derived class, used three ways.

public sealed class ClassLab() : LabClassFixture("topologies/two-namespaces.yaml")
{
    /// <summary>Without root there is no lab: the root-only tests using it are skipped.</summary>
    public override ValueTask InitializeAsync() => Root.IsRoot ? base.InitializeAsync() : ValueTask.CompletedTask;
}

public sealed class CollectionLab() : LabClassFixture("topologies/two-namespaces.yaml")
{
    /// <summary>Without root there is no lab: the root-only tests using it are skipped.</summary>
    public override ValueTask InitializeAsync() => Root.IsRoot ? base.InitializeAsync() : ValueTask.CompletedTask;
}

public sealed class AssemblyLab() : LabClassFixture("topologies/two-namespaces.yaml")
{
    /// <summary>Without root there is no lab: the root-only tests using it are skipped.</summary>
    public override ValueTask InitializeAsync() => Root.IsRoot ? base.InitializeAsync() : ValueTask.CompletedTask;
}

[CollectionDefinition(nameof(LabCollection))]
public sealed class LabCollection : ICollectionFixture<CollectionLab>;

public sealed class ClassFixtureTests(ClassLab fixture) : IClassFixture<ClassLab>
{
    [RootFact]
    public async Task ClassFixture_BringsTheLabUp_AndLogsItIntoTheTestOutput()
    {
        var ping = await fixture.Lab["net0"].ExecAsync(["ping", "-c", "1", "-W", "5", "10.0.1.2"], TestContext.Current.CancellationToken);
        ping.ExitCode.Should().Be(0, ping.StandardOutput);
        TestContext.Current.TestOutputHelper!.Output.Should().Contain("vnet DBG create namespace " + fixture.Lab.Options.Prefix + "net0");
    }

    [RootFact]
    public void ClassFixture_IsIsolated()
    {
        fixture.Lab.Options.Prefix.Should().MatchRegex("^lab[0-9a-f]{8}-$");
        fixture.Lab["host"].Name.Should().Be(fixture.Lab.Options.Prefix + "host");
    }
}

[Collection(nameof(LabCollection))]
public sealed class CollectionFixtureTests(CollectionLab collection, AssemblyLab assembly)
{
    [RootFact]
    public async Task CollectionAndAssemblyFixtures_AreSeparateLabsOfOneTopology()
    {
        collection.Lab.Options.Prefix.Should().NotBe(assembly.Lab.Options.Prefix);
        foreach (var lab in new[] { collection.Lab, assembly.Lab })
        {
            var ping = await lab["net1"].ExecAsync(["ping", "-c", "1", "-W", "5", "10.0.1.1"], TestContext.Current.CancellationToken);
            ping.ExitCode.Should().Be(0, ping.StandardOutput);
        }
    }
}
