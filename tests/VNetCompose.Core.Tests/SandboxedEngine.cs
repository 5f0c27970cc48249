using VNetCompose.Core.Apply;
using VNetCompose.Core.Desired;
using VNetCompose.Core.Rendering;
using VNetCompose.Model;
using VNetCompose.Netlink;
using VNetCompose.TestSupport;

namespace VNetCompose.Core.Tests;

/// <summary>
/// The engine on the real kernel through the netlink driver, sandboxed: <c>host</c> mapped to a namespace of
/// the run (as <c>--host-netns</c>), every namespace name prefixed (as <c>--prefix</c>), state files in a
/// temporary directory. Disposing removes every namespace of the run, whatever the outcome.
/// </summary>
internal sealed class SandboxedEngine : IDisposable
{
    public SandboxedEngine()
    {
        Engine = new VNetEngine(Kernel, State.Settings with { Timings = ReconcileTimings.Default });
        Options = new LabOptions(Sandbox.Name("host"), Sandbox.Prefix);
    }

    public SandboxNamespaces Sandbox { get; } = new();
    public TempStateDir State { get; } = new();
    public NetlinkKernel Kernel { get; } = new();
    public VNetEngine Engine { get; }
    public LabOptions Options { get; }

    /// <summary>The kernel namespace a topology namespace maps to.</summary>
    public string Ns(string topologyNamespace) => Options.MapNamespace(topologyNamespace).Name!;

    /// <summary>The instance's NAT table name (<c>vnet-&lt;prefix&gt;&lt;name&gt;</c>).</summary>
    public string NatTableName(Topology topology) => Ownership.NatTableName(Options.InstanceName(topology.Name));

    /// <summary>What <c>nft -j</c> should show for the rules the topology declares in <paramref name="topologyNamespace"/>.</summary>
    public IReadOnlyList<OracleNatRule> ExpectedNatRules(Topology topology, string topologyNamespace) =>
        DesiredStateBuilder.Build(topology, Options).Namespaces.Single(n => n.DeclaredName == topologyNamespace)
            .Nat!.Rules.Select(OracleNatRule.Expected).ToList();

    /// <summary>Up, which must apply, converge and leave every link ready; the plan or the failure otherwise.</summary>
    public void Up(Topology topology)
    {
        var result = Engine.Up(topology, Options);
        result.Status.Should().Be(UpStatus.Applied, result.Outcome?.Failure?.Error.Message
            ?? (result.Remaining is { } r ? PlanTextRenderer.Render(r) : PlanTextRenderer.Render(result.Plan)));
        result.NotReady.Should().BeEmpty();
    }

    /// <summary>The topology of a load that must have no error.</summary>
    public static Topology Loaded(LoadResult result)
    {
        result.Errors.Should().BeEmpty();
        return result.Topology!;
    }

    public void Dispose()
    {
        Kernel.Dispose(); // its sockets would keep the namespaces alive
        Sandbox.Dispose();
        State.Dispose();
    }
}
