using VNetCompose.Kernel;
using VNetCompose.TestSupport;

namespace VNetCompose.Netlink.Tests.Kernel;

/// <summary>A fresh driver and a private set of sandbox namespaces per test, both torn down in every outcome.</summary>
public abstract class KernelTestBase : IDisposable
{
    protected SandboxNamespaces Sandbox { get; } = new();

    protected NetlinkKernel Kernel { get; } = new();

    protected static NetnsId Ns(string name) => NetnsId.Named(name);

    protected NamespaceSnapshot Observe(string ns) => Kernel.Observe([Ns(ns)])[Ns(ns)];

    /// <summary>Our observation of each namespace equals what iproute2 reports.</summary>
    protected void ShouldMatchOracle(params string[] namespaces)
    {
        foreach (var ns in namespaces)
        {
            OracleComparison.Differences(() => Kernel.Observe(namespaces.Select(Ns).ToList())[Ns(ns)], ns)
                .Should().BeEmpty($"our observation of {ns} should equal iproute2's");
        }
    }

    protected KernelException Refusal(Action action) =>
        FluentActions.Invoking(action).Should().Throw<KernelException>().Which;

    public void Dispose()
    {
        Kernel.Dispose(); // our sockets would keep the namespaces alive
        Sandbox.Dispose();
        GC.SuppressFinalize(this);
    }
}
