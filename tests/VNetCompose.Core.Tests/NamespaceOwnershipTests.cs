using System.Text.Json.Nodes;
using VNetCompose.Kernel;
using VNetCompose.Testing;
using VNetCompose.TestSupport;
using static VNetCompose.Core.Tests.Topologies;

namespace VNetCompose.Core.Tests;

/// <summary>
/// Whose namespace is it: vnet deletes a namespace only when the kernel says it is the instance's (the owner marker on
/// its lo, set at creation; its inode the one recorded) and it holds nothing else; the state file alone never suffices.
/// On the in-memory kernel; <see cref="NamespaceOwnershipKernelTests"/> does the same on the real one.
/// </summary>
public sealed class NamespaceOwnershipTests : IDisposable
{
    private static readonly LabOptions Sandboxed = new("sbx", "p-");
    private const string Instance = "p-docker0-lab";
    private readonly TempStateDir _state = new();
    private readonly InMemoryKernel _kernel = new();
    private readonly VNetEngine _engine;

    public NamespaceOwnershipTests() => _engine = new VNetEngine(_kernel, _state.Settings);

    public void Dispose() => _state.Dispose();

    [Fact]
    public void Up_MarksEachNamespaceItCreates_AndRecordsItsInode()
    {
        _engine.Up(Docker0(), Sandboxed).Succeeded.Should().BeTrue();
        var record = _engine.Store.Read(Instance)!;
        foreach (string name in new[] { "p-ubuntu1", "p-ubuntu2", "sbx" })
        {
            var ns = NetnsId.Named(name);
            _kernel.Observe([ns])[ns].FindLink("lo")!.Alias.Should().Be("vnet-ns:" + Instance);
            record.Holdings.NamespaceInodes[name].Should().Be(_kernel.NamespaceInode(name)!.Value);
        }
    }

    [Fact]
    public void ANamespaceDeletedByHand_AndCreatedAgainBySomeoneElse_IsNotDeletedByDown()
    {
        _engine.Up(Docker0(), Sandboxed).Succeeded.Should().BeTrue();
        _kernel.DeleteNamespace("p-ubuntu1");
        _kernel.CreateNamespace("p-ubuntu1");
        _kernel.CreateBridge(NetnsId.Named("p-ubuntu1"), new BridgeRequest("theirs"));

        var down = _engine.Down(Instance);

        down.Status.Should().Be(DownStatus.Removed);
        down.Plan.Changes.Should().NotContain(c => c.Object.ToString() == "namespace p-ubuntu1");
        _kernel.ListNamespaces().Should().Equal("p-ubuntu1");
        _kernel.Observe([NetnsId.Named("p-ubuntu1")])[NetnsId.Named("p-ubuntu1")].FindLink("theirs").Should().NotBeNull();
    }

    [Fact]
    public void ANamespaceReplacedByOneCarryingTheMarker_IsNotDeleted_ItsInodeIsNotTheRecordedOne()
    {
        _engine.Up(Docker0(), Sandboxed).Succeeded.Should().BeTrue();
        _kernel.DeleteNamespace("p-ubuntu1");
        _kernel.CreateNamespace("p-ubuntu1", "vnet-ns:" + Instance); // a copy of the marker does not make it the same namespace

        _engine.Down(Instance).Plan.Changes.Should().NotContain(c => c.Object.ToString() == "namespace p-ubuntu1");
        _kernel.ListNamespaces().Should().Equal("p-ubuntu1");
    }

    [Fact]
    public void AHandEditedStateFile_CannotMakeDownDeleteAnArbitraryNamespace()
    {
        _kernel.CreateNamespace("victim");
        _kernel.CreateNamespace("victim2");
        _engine.Up(Docker0(), Sandboxed).Succeeded.Should().BeTrue();
        string path = _engine.Store.PathOf(Instance);
        var json = JsonNode.Parse(File.ReadAllText(path))!;
        foreach (string key in new[] { "namespaces", "createdNamespaces" })
        {
            json[key]!.AsArray().Add("victim");
            json[key]!.AsArray().Add("victim2");
        }
        json["namespaceInodes"]!["victim2"] = _kernel.NamespaceInode("victim2"); // even with its true inode: no marker, no vnet objects
        File.WriteAllText(path, json.ToJsonString());

        var down = _engine.Down(Instance);

        down.Status.Should().Be(DownStatus.Removed);
        _kernel.ListNamespaces().Should().Equal("victim", "victim2");
    }

    [Fact]
    public void TwoInstancesSharingANamespace_EachDownRemovesOnlyItsOwn_AndTheLastDownRemovesTheNamespace()
    {
        // Instance a creates the shared namespace; instance b uses it.
        var a = Topology("a", [Ns("shared"), Ns("ha")], veths: [Veth(End("ha", "eth0", ["10.1.0.1/24"]), End("shared", "pa", ["10.1.0.2/24"]))]);
        var b = Topology("b", [Ns("shared"), Ns("hb")], veths: [Veth(End("hb", "eth0", ["10.2.0.1/24"]), End("shared", "pb", ["10.2.0.2/24"]))]);
        var options = new LabOptions(Prefix: "x-");
        string empty = _kernel.Dump();
        _engine.Up(a, options).Succeeded.Should().BeTrue();
        _engine.Up(b, options).Succeeded.Should().BeTrue();
        _engine.Store.Read("x-b")!.Holdings.CreatedNamespaces.Should().Equal("x-hb");

        var downA = _engine.Down("x-a");

        downA.Status.Should().Be(DownStatus.Removed);
        string.Join("\n", downA.Plan.Warnings).Should().Contain("namespace x-shared holds objects of vnet instance x-b: vnet removes only x-a's objects from it and leaves it in place, to vnet instance x-b, whose down deletes it");
        _kernel.ListNamespaces().Should().Equal("x-hb", "x-shared");
        var shared = _kernel.Observe([NetnsId.Named("x-shared")])[NetnsId.Named("x-shared")];
        shared.Links.Select(l => $"{l.Name}:{l.Alias}").Should().Equal(["lo:vnet-ns:x-b", "pb:vnet:x-b"], "b's objects are untouched; the namespace is b's now");
        _engine.Plan(b, options).HasChanges.Should().BeFalse("b's lab is intact");

        _engine.Down("x-b").Status.Should().Be(DownStatus.Removed);
        _kernel.Dump().Should().Be(empty);
    }

    [Fact]
    public void ANamespaceOfTheInstance_HoldingAForeignLink_IsLeftWithIt_AndNoLongerMarked()
    {
        string empty = _kernel.Dump();
        _engine.Up(Docker0(), Sandboxed).Succeeded.Should().BeTrue();
        _kernel.CreateBridge(NetnsId.Named("p-ubuntu2"), new BridgeRequest("mine"));

        var down = _engine.Down(Instance);

        down.Status.Should().Be(DownStatus.Removed);
        string.Join("\n", down.Plan.Warnings).Should().Contain("namespace p-ubuntu2 holds link mine: vnet removes only p-docker0-lab's objects from it and leaves it in place, no longer marked as vnet's");
        _kernel.ListNamespaces().Should().Equal("p-ubuntu2");
        var left = _kernel.Observe([NetnsId.Named("p-ubuntu2")])[NetnsId.Named("p-ubuntu2")];
        left.Links.Select(l => $"{l.Name}:{l.Alias ?? "-"}").Should().Equal("lo:-", "mine:-");
        _kernel.DeleteNamespace("p-ubuntu2");
        _kernel.Dump().Should().Be(empty);
    }

    [Fact]
    public void AMarkerRemovedByHand_MakesTheNamespaceNoLongerVnets_UsedButNeverDeleted()
    {
        _engine.Up(Docker0(), Sandboxed).Succeeded.Should().BeTrue();
        _kernel.UpdateLink(NetnsId.Named("p-ubuntu1"), "lo", new LinkUpdate(Alias: ""));

        var plan = _engine.Plan(Docker0(), Sandboxed);
        plan.HasChanges.Should().BeFalse();
        plan.Warnings.Should().ContainSingle().Which.Message.Should().StartWith($"namespace p-ubuntu1 is not the namespace vnet created for {Instance}");
        _engine.Up(Docker0(), Sandboxed).Succeeded.Should().BeTrue();
        _engine.Store.Read(Instance)!.Holdings.CreatedNamespaces.Should().Equal("p-ubuntu2", "sbx");
        _engine.Down(Instance).Status.Should().Be(DownStatus.Removed);
        _kernel.ListNamespaces().Should().Equal("p-ubuntu1");
    }

    [Fact]
    public void DownOfTheTopology_WithoutItsStateFile_FindsTheLabThroughTheKernelMarkers()
    {
        string empty = _kernel.Dump();
        _engine.Up(Docker0(), Sandboxed).Succeeded.Should().BeTrue();
        File.Delete(_engine.Store.PathOf(Instance));

        var down = _engine.Down(Docker0(), Sandboxed);

        down.Status.Should().Be(DownStatus.Removed);
        down.Plan.Changes.Where(c => c.Action == Planning.ChangeAction.Delete).Select(c => c.Object.ToString())
            .Should().Contain(["namespace p-ubuntu1", "namespace p-ubuntu2", "namespace sbx"]);
        _kernel.Dump().Should().Be(empty);
    }

    [Fact]
    public void AnInstanceNameHeldByAnotherTopologyAndPrefix_IsRefused_BeforeAnythingChanges()
    {
        // --prefix a + topology b, and topology ab without a prefix: both are instance "ab".
        var b = Topology("b", [Ns("n1")], veths: [Veth(End("n1", "eth0"), End("host", "vb"))]);
        var ab = Topology("ab", [Ns("n2")], veths: [Veth(End("n2", "eth0"), End("host", "vab"))]);
        _engine.Up(b, new LabOptions("sbx", "a")).Succeeded.Should().BeTrue();
        string before = _kernel.Dump();
        int writes = _kernel.Writes;

        foreach (var attempt in new Action[]
        {
            () => _engine.Up(ab, new LabOptions("sbx")),
            () => _engine.Plan(ab, new LabOptions("sbx")),
            () => _engine.Down(ab, new LabOptions("sbx")),
        })
        {
            attempt.Should().Throw<InvalidLabOptionsException>().Which.Message.Should().Be(
                $"instance ab is up as topology 'b' with --prefix 'a' ({Path.GetFullPath("t.yaml")}); this is topology 'ab' without a prefix, "
                + "and the two would own each other's objects: choose another --prefix, or take that lab down first");
        }
        _kernel.Dump().Should().Be(before);
        _kernel.Writes.Should().Be(writes);
    }
}
