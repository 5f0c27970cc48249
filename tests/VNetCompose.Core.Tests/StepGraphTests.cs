using VNetCompose.Core.Planning;
using VNetCompose.Kernel;
using VNetCompose.Kernel.Links.Kinds;

namespace VNetCompose.Core.Tests;

/// <summary>The plan's order comes from dependencies; ranks only break ties.</summary>
public sealed class StepGraphTests
{
    private static readonly NetnsId A = NetnsId.Named("a");

    private static CreateLinkStep Create(string name, LinkPath? parent = null, int change = 0) =>
        new(change, A, new LinkRequest(name, new BridgeData(), parent)) { Needs = parent is null ? [] : [LinkObject.Of(parent)] };

    private static UpdateLinkStep Up(string name, int change = 0) =>
        new(change, StepRank.SetUp, A, name, new LinkUpdate(Up: true), new LinkUpdate());

    private static DeleteLinkStep Delete(string name, params ObjectAddress[] needs) => new(0, A, name) { Needs = needs };

    private static string[] Order(params KernelStep[] steps) => StepGraph.Order(steps).Select(s => s.Describe()).ToArray();

    [Fact]
    public void AStepNeedingAnObject_GoesAfterEveryStepThatProvidesIt_EvenAgainstRank()
    {
        // The address (rank 100) needs x; x's up (rank 90) is planned after the address: the dependency wins.
        var address = new AddAddressStep(0, A, "x", System.Net.IPAddress.Parse("10.0.0.1"), 24) { Needs = [new LinkObject(A, "x")] };
        Order(address, Create("x"), Up("x")).Should().Equal("create bridge a/x", "set a/x up", "add address 10.0.0.1/24 to a/x");
    }

    [Fact]
    public void ALinkOnAParent_IsCreatedAfterTheParent_WhateverTheirPlannedOrder()
    {
        Order(Create("child", new LinkPath(A, "parent")), Create("parent")).Should().Equal("create bridge a/parent", "create bridge a/child on a/parent");
    }

    [Fact]
    public void NeedsCreated_WaitsOnlyForTheCreation_NotForLaterChanges()
    {
        var master = new UpdateLinkStep(0, StepRank.SetMaster, A, "port", new LinkUpdate(Master: "br"), new LinkUpdate())
        {
            NeedsCreated = [new LinkObject(A, "br")],
        };
        Order(Create("br"), Up("br"), master).Should().Equal("create bridge a/br", "set a/port master br", "set a/br up");
    }

    [Fact]
    public void ACreation_WaitsForTheDeleteThatFreesItsName()
    {
        Order(Create("x"), Delete("x")).Should().Equal("delete link a/x", "create bridge a/x");
    }

    [Fact]
    public void Deletes_RunInReverseDependencyOrder()
    {
        // The child needs the parent: it goes first, though the parent's delete was planned first.
        Order(Delete("parent"), Delete("child", new LinkObject(A, "parent"))).Should().Equal("delete link a/child", "delete link a/parent");
    }

    [Fact]
    public void WithoutDependencies_RankThenPlannedOrderDecide()
    {
        Order(Up("b"), Up("a"), Create("c"), Delete("d")).Should().Equal("delete link a/d", "create bridge a/c", "set a/b up", "set a/a up");
    }

    [Fact]
    public void ACycle_IsAPlannerBug_AndSaysWhichStepsAreStuck()
    {
        var act = () => StepGraph.Order([Create("x", new LinkPath(A, "y")), Create("y", new LinkPath(A, "x"))]);
        act.Should().Throw<InvalidOperationException>().WithMessage("*cycle*create bridge a/x on a/y*create bridge a/y on a/x*");
    }
}
