using VNetCompose.TestSupport;
using System.Net;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using VNetCompose.Core.Apply;
using VNetCompose.Core.State;
using VNetCompose.Testing;
using VNetCompose.Kernel;
using static VNetCompose.Core.Tests.Topologies;

namespace VNetCompose.Core.Tests;

/// <summary>up / down / status through the engine on the in-memory kernel.</summary>
public sealed class EngineTests : IDisposable
{
    private static readonly LabOptions Sandboxed = new("sbx", "p-");
    private readonly TempStateDir _state = new();
    private readonly InMemoryKernel _kernel = new();
    private readonly VNetEngine _engine;

    public EngineTests() => _engine = new VNetEngine(_kernel, _state.Settings);

    public void Dispose() => _state.Dispose();

    [Fact]
    public void SecondUp_OfAnUnchangedTopology_MakesZeroKernelWrites()
    {
        _engine.Up(Docker0(), Sandboxed).Status.Should().Be(UpStatus.Applied);
        int writes = _kernel.Writes;
        var again = _engine.Up(Docker0(), Sandboxed);
        again.Status.Should().Be(UpStatus.Unchanged);
        again.KernelWrites.Should().Be(0);
        _kernel.Writes.Should().Be(writes);
    }

    [Fact]
    public void Up_WritesAnOwnerOnlyStateFile_AndDownRemovesItAndEverythingOwned()
    {
        string empty = _kernel.Dump();
        _engine.Up(Docker0(), Sandboxed);
        string path = _engine.Store.PathOf("p-docker0-lab");
        (OperatingSystem.IsWindows() ? UnixFileMode.None : File.GetUnixFileMode(path)).Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        _engine.List().Should().ContainSingle().Which.Holdings.CreatedNamespaces.Should().Equal("p-ubuntu1", "p-ubuntu2", "sbx");

        _engine.Down(Docker0(), Sandboxed).Status.Should().Be(DownStatus.Removed);
        File.Exists(path).Should().BeFalse();
        _kernel.Dump().Should().Be(empty);
    }

    [Fact]
    public void DownByName_WorksFromTheStateFileAlone_AfterTheTopologyChanged()
    {
        string empty = _kernel.Dump();
        _engine.Up(Docker0(), Sandboxed);
        _engine.Down("p-docker0-lab").Status.Should().Be(DownStatus.Removed);
        _kernel.Dump().Should().Be(empty);
        var unknown = () => _engine.Down("p-docker0-lab");
        unknown.Should().Throw<UnknownInstanceException>();
    }

    [Fact]
    public void PreExistingNamespace_IsUsedAndNeverDeleted_AndItsSysctlIsRestored()
    {
        _kernel.CreateNamespace("net0");
        var net0 = NetnsId.Named("net0");
        var topology = TwoNamespaces() with { Namespaces = [Ns("net0", sysctls: [Sysctl("net.ipv4.ip_forward", "1")]), Ns("net1")] };
        _engine.Up(topology, LabOptions.Default).Status.Should().Be(UpStatus.Applied);
        _kernel.ReadSysctl(net0, "net.ipv4.ip_forward").Should().Be("1");

        _engine.Down(topology, LabOptions.Default).Status.Should().Be(DownStatus.Removed);
        _kernel.ListNamespaces().Should().Equal("net0");
        _kernel.ReadSysctl(net0, "net.ipv4.ip_forward").Should().Be("0");
        _kernel.Observe([net0])[net0].Links.Select(l => l.Name).Should().Equal("lo");
    }

    [Fact]
    public void RemovingASysctlFromTheTopology_RestoresTheValueFoundBefore()
    {
        _kernel.CreateNamespace("net0");
        var net0 = NetnsId.Named("net0");
        var with = TwoNamespaces() with { Namespaces = [Ns("net0", sysctls: [Sysctl("net.ipv4.ip_forward", "1")]), Ns("net1")] };
        _engine.Up(with, LabOptions.Default);
        _engine.Up(TwoNamespaces(), LabOptions.Default).Status.Should().Be(UpStatus.Applied);
        _kernel.ReadSysctl(net0, "net.ipv4.ip_forward").Should().Be("0");
        _engine.Store.Read("lab")!.Holdings.Sysctls.Should().BeEmpty();
    }

    [Fact]
    public void ForeignLinkAndForeignNamespace_SurviveUpAndDown()
    {
        _kernel.CreateNamespace("foreign");
        _kernel.CreateNamespace("sbx");
        var sbx = NetnsId.Named("sbx");
        _kernel.CreateBridge(sbx, new BridgeRequest("theirs", Mtu: 1400));
        _kernel.AddAddress(sbx, "theirs", IPAddress.Parse("192.0.2.1"), 24);
        _engine.Up(Docker0(), Sandboxed).Status.Should().Be(UpStatus.Applied);
        _engine.Down(Docker0(), Sandboxed).Status.Should().Be(DownStatus.Removed);

        _kernel.ListNamespaces().Should().Equal("foreign", "sbx");
        var theirs = _kernel.Observe([sbx])[sbx].FindLink("theirs")!;
        theirs.Mtu.Should().Be(1400);
        _kernel.Observe([sbx])[sbx].Addresses.Should().ContainSingle(a => a.LinkIndex == theirs.Index);
    }

    [Fact]
    public void FailingStep_StopsReportsTheKernelText_AndRollsBackToTheStartingState()
    {
        _kernel.CreateNamespace("sbx");
        string before = _kernel.Dump();
        _kernel.FailWrite(_kernel.Writes + 4, Errnos.EPERM);
        var result = _engine.Up(Docker0(), Sandboxed);
        result.Status.Should().Be(UpStatus.Failed);
        result.Outcome!.Failure!.Error.Message.Should().Be("creating veth eth0 in namespace p-ubuntu1 (peer vethd52f2b1 in namespace sbx): Operation not permitted (EPERM): injected fault");
        result.Outcome.RolledBack.Should().BeTrue();
        _kernel.Dump().Should().Be(before);
        File.Exists(_engine.Store.PathOf("p-docker0-lab")).Should().BeFalse("nothing is held after a clean rollback");
    }

    [Fact]
    public void NoRollback_KeepsPartialWork_AndTheNextUpConvergesAndDownRemovesAll()
    {
        string empty = _kernel.Dump();
        _kernel.FailWrite(_kernel.Writes + 9, Errnos.EPERM);
        _engine.Up(Docker0(), Sandboxed, new UpOptions(NoRollback: true)).Status.Should().Be(UpStatus.Failed);
        _engine.Store.Read("p-docker0-lab")!.Holdings.CreatedNamespaces.Should().Contain("sbx");

        _engine.Up(Docker0(), Sandboxed).Status.Should().Be(UpStatus.Applied);
        _engine.Plan(Docker0(), Sandboxed).HasChanges.Should().BeFalse();
        _engine.Down("p-docker0-lab").Status.Should().Be(DownStatus.Removed);
        _kernel.Dump().Should().Be(empty);
    }

    [Fact]
    public void NamespaceLeftHalfCreatedByACrash_IsRecreatedByUp_AndRemovedByDown()
    {
        string empty = _kernel.Dump();
        // kill -9 while creating the third namespace: the intent is recorded, two namespaces exist (marked from their
        // creation on), the third is listed but cannot be entered.
        var intent = _engine.Plan(Docker0(), Sandboxed).Holdings;
        _engine.Store.Write(new InstanceRecord("p-docker0-lab", "docker0-lab", null, Sandboxed, intent, DateTimeOffset.UtcNow));
        _kernel.CreateNamespace("p-ubuntu1", Ownership.NamespaceMarker("p-docker0-lab"));
        _kernel.CreateNamespace("sbx", Ownership.NamespaceMarker("p-docker0-lab"));
        _kernel.CreateBrokenNamespace("p-ubuntu2");

        var plan = _engine.Plan(Docker0(), Sandboxed);
        plan.Changes.Should().ContainSingle(c => c.Object.ToString() == "namespace p-ubuntu2").Which.Action.Should().Be(Planning.ChangeAction.Replace);
        _engine.Up(Docker0(), Sandboxed).Status.Should().Be(UpStatus.Applied);
        _engine.Plan(Docker0(), Sandboxed).HasChanges.Should().BeFalse();

        _kernel.CreateBrokenNamespace("p-stray");
        _engine.Plan(Topology("other", [Ns("stray")]), Sandboxed).Errors.Should().ContainSingle()
            .Which.Message.Should().StartWith("/run/netns/p-stray exists but is not a mounted network namespace");
        _kernel.DeleteNamespace("p-stray");

        _engine.Down("p-docker0-lab").Status.Should().Be(DownStatus.Removed);
        _kernel.Dump().Should().Be(empty);
    }

    [Fact]
    public void TransientErrors_AreRetried()
    {
        _kernel.FailWrite(_kernel.Writes + 3, Errnos.EBUSY);
        _kernel.FailWrite(_kernel.Writes + 4, Errnos.ENOBUFS);
        var result = _engine.Up(Docker0(), Sandboxed);
        result.Status.Should().Be(UpStatus.Applied);
        _engine.Plan(Docker0(), Sandboxed).HasChanges.Should().BeFalse();
    }

    [Fact]
    public void Down_WaitsForAsynchronousNamespaceCleanup()
    {
        _kernel.NamespaceCleanupObservations = 3;
        var topology = Topology("w", [Ns("a")], veths: [Veth(End("a", "x"), End("host", "y"))]);
        _engine.Up(topology, Sandboxed);
        _engine.Down(topology, Sandboxed).Status.Should().Be(DownStatus.Removed);
        _kernel.Dump().Should().NotContain("vnet:");
    }

    [Fact]
    public void SecondHolderOfTheInstanceLock_FailsWithNoWait()
    {
        using var held = InstanceLock.Acquire(_state.Path, "p-docker0-lab", noWait: true, NullLogger.Instance);
        var act = () => _engine.Up(Docker0(), Sandboxed, new UpOptions(NoWait: true));
        act.Should().Throw<InstanceBusyException>().WithMessage("another vnet process is working on p-docker0-lab*");
        _kernel.Writes.Should().Be(0);
    }

    [Fact]
    public async Task SecondHolderOfTheInstanceLock_WaitsUntilTheFirstReleasesIt()
    {
        var held = InstanceLock.Acquire(_state.Path, "lab", noWait: true, NullLogger.Instance);
        var log = new RecordingLog();
        var engine = new VNetEngine(_kernel, _state.Settings, log);
        var up = Task.Run(() => engine.Up(TwoNamespaces(), LabOptions.Default));
        SpinWait.SpinUntil(() => log.Messages.Count > 0, TimeSpan.FromSeconds(5)).Should().BeTrue();
        log.Messages[0].Should().StartWith("waiting for another vnet process working on {Instance}");
        up.IsCompleted.Should().BeFalse();
        held.Dispose();
        (await up.WaitAsync(TimeSpan.FromSeconds(10))).Status.Should().Be(UpStatus.Applied);
    }

    [Fact]
    public void Status_ReportsOkMissingDriftedAndForeign()
    {
        _engine.Up(TwoNamespaces(), LabOptions.Default);
        var net0 = NetnsId.Named("net0");
        var net1 = NetnsId.Named("net1");
        _kernel.UpdateLink(net0, "veth0", new LinkUpdate(Up: false));
        _kernel.DeleteAddress(net1, "veth1", IPAddress.Parse("10.0.1.2"), 24);
        var rows = _engine.Status(TwoNamespaces(), LabOptions.Default).Rows;
        rows.Select(r => (r.Kind, r.Object.ToString(), r.State, r.Detail)).Should()
            .Contain(("veth", "veth net0/veth0 <-> net1/veth1", ObjectState.Drifted, "up false -> true"))
            .And.Contain(("address", "address 10.0.1.2/24 on net1/veth1", ObjectState.Missing, ""))
            .And.Contain(("namespace", "namespace net0", ObjectState.Ok, ""));

        _engine.Down("lab");
        _kernel.CreateNamespace("net0");
        _kernel.CreateBridge(net0, new BridgeRequest("veth0"));
        _engine.Status(TwoNamespaces(), LabOptions.Default).Rows.Should().Contain(r =>
            r.Object.ToString() == "veth net0/veth0 <-> net1/veth1" && r.State == ObjectState.Foreign);
    }

    [Fact]
    public void Up_PassesThePlanToTheCallerBeforeApplying()
    {
        Planning.Plan? seen = null;
        int writesWhenSeen = -1;
        _engine.Up(TwoNamespaces(), LabOptions.Default, new UpOptions(OnPlanned: p => { seen = p; writesWhenSeen = _kernel.Writes; }));
        seen!.Changes.Should().NotBeEmpty();
        writesWhenSeen.Should().Be(0);
    }

    private sealed class RecordingLog : ILogger
    {
        public List<string> Messages { get; } = [];
        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            // The template, as the structured state carries it ({OriginalFormat}).
            var template = state is IReadOnlyList<KeyValuePair<string, object?>> values
                ? values.FirstOrDefault(v => v.Key == "{OriginalFormat}").Value as string : null;
            if (IsEnabled(logLevel)) lock (Messages) Messages.Add(template ?? formatter(state, exception));
        }
    }
}
