using System.Text.Json;
using VNetCompose.Core;
using VNetCompose.Fixtures.Tests.Support;
using VNetCompose.Model;
using VNetCompose.Testing;
using VNetCompose.TestSupport;

namespace VNetCompose.Fixtures.Tests;

/// <summary>
/// Shaping a link of a lab mid-test through the fixture (<c>lab["net0"].SetEgressAsync</c>, <c>SetIngressAsync</c>,
/// <c>LabFixture.ShapeAsync</c>): <c>tc -j</c> in the lab's namespaces is the oracle.
/// </summary>
public sealed class ShapingTests
{
    [RootFact]
    public async Task EgressAndIngress_AreShapedMidTest_Restored_AndTheTeardownLeavesNothing()
    {
        var lab = await LabFixture.UpAsync(Labs.TwoNamespacesPath, LabOptions.Isolated("fxshape"), cancellationToken: TestContext.Current.CancellationToken);
        string prefix = lab.Options.Prefix!;
        await using (lab)
        {
            string net0 = lab["net0"].Name, net1 = lab["net1"].Name;
            Root(net0, "veth0").GetProperty("kind").GetString().Should().Be("noqueue");

            await lab["net0"].SetEgressAsync("veth0", new Impairment { RateBitsPerSecond = 5_000_000 }, TestContext.Current.CancellationToken);
            var tbf = Root(net0, "veth0");
            tbf.GetProperty("kind").GetString().Should().Be("tbf");
            tbf.GetProperty("options").GetProperty("rate").GetInt64().Should().Be(625_000, "5 Mbit/s in bytes");
            lab.Engine.Plan(lab.Topology, lab.Options).HasChanges.Should().BeFalse("the lab's topology now carries the shaping");

            await lab["net1"].SetIngressAsync("veth1", new Impairment { RateBitsPerSecond = 10_000_000 }, TestContext.Current.CancellationToken);
            Root(net1, "ifb-veth1").GetProperty("kind").GetString().Should().Be("tbf", "ingress is shaped on an ifb");
            (await lab["net0"].ExecAsync(["ping", "-c", "1", "-W", "5", "10.0.1.2"], TestContext.Current.CancellationToken))
                .ExitCode.Should().Be(0, "traffic still flows both ways");

            await lab["net0"].SetEgressAsync("veth0", null, TestContext.Current.CancellationToken);
            Root(net0, "veth0").GetProperty("kind").GetString().Should().Be("noqueue", "restored");
            Root(net1, "ifb-veth1").GetProperty("kind").GetString().Should().Be("tbf", "the other link was not touched");
        }
        Labs.NamespacesWithPrefix(prefix).Should().BeEmpty();
    }

    [Fact]
    public async Task AnUndeclaredLink_IsRefusedWithArgumentException_AndNothingChanges()
    {
        using var state = new TempStateDir();
        var kernel = new InMemoryKernel();
        await using var lab = await LabFixture.UpAsync(Labs.TwoNamespaces(), null, null, kernel, state.Settings, TestContext.Current.CancellationToken);
        int writes = kernel.Writes;
        var before = lab.Topology;

        var act = () => lab["net0"].SetEgressAsync("eth9", new Impairment { RateBitsPerSecond = 1_000_000 }, TestContext.Current.CancellationToken);

        await act.Should().ThrowAsync<ArgumentException>();
        kernel.Writes.Should().Be(writes);
        lab.Topology.Should().BeSameAs(before);
    }

    [Fact]
    public async Task ShapingOnTheInMemoryKernel_KeepsTheShapedTopology_ForTheTeardown()
    {
        using var state = new TempStateDir();
        var kernel = new InMemoryKernel();
        var lab = await LabFixture.UpAsync(Labs.TwoNamespaces(), null, null, kernel, state.Settings, TestContext.Current.CancellationToken);
        var before = lab.Topology;

        var result = await lab.ShapeAsync("net1", "veth1", ShapedDirection.Ingress, new Impairment { RateBitsPerSecond = 2_000_000 },
            TestContext.Current.CancellationToken);

        result.Status.Should().Be(UpStatus.Applied);
        result.Plan.Changes.Select(c => c.Object.ToString()).Should().Contain(o => o.Contains("ifb-veth1", StringComparison.Ordinal));
        lab.Topology.Should().NotBeSameAs(before);
        await lab.DisposeAsync();
        kernel.ListNamespaces().Should().BeEmpty();
        state.Files().Should().BeEmpty();
    }

    /// <summary>The root qdisc of <paramref name="link"/> in <paramref name="ns"/>, as <c>tc -j qdisc show</c> reports it.</summary>
    private static JsonElement Root(string ns, string link)
    {
        using var json = JsonDocument.Parse(ProcessRunner.RunChecked("tc", "-n", ns, "-j", "qdisc", "show", "dev", link, "root"));
        return json.RootElement.EnumerateArray().Single().Clone();
    }
}
