using VNetCompose.Kernel;
using VNetCompose.Netlink.Namespaces;

namespace VNetCompose.Netlink;

/// <summary>
/// The real <see cref="IKernel"/>: rtnetlink and nf_tables over netlink sockets, one socket per
/// namespace and protocol, created inside the namespace on a dedicated thread and kept for the
/// driver's lifetime. Thread-safe; no method switches the calling thread into a namespace.
/// Split by concern: namespaces, links, addresses and routes, sysctls, observation, NAT.
/// </summary>
public sealed partial class NetlinkKernel : IKernel
{
    private readonly NamespaceManager _namespaces;

    /// <summary>The driver, with as many namespaces open at once as the descriptor limit allows.</summary>
    public NetlinkKernel()
        : this(openBudget: null)
    {
    }

    /// <param name="openBudget">At most this many namespaces open at once (tests; default: what the descriptor limit allows).</param>
    internal NetlinkKernel(int? openBudget) => _namespaces = new NamespaceManager(openBudget);

    /// <summary>Named namespaces whose descriptors are open now.</summary>
    internal int OpenNamespaces => _namespaces.OpenCount;

    /// <summary>The namespace's handle; ENOENT naming <paramref name="operation"/> when it does not exist.</summary>
    private NamespaceHandle Namespace(NetnsId id, string operation) => _namespaces.Get(id, operation);

    /// <summary>"namespace NAME" or "the current namespace", for operation descriptions.</summary>
    private static string In(NetnsId id) => NamespaceHandle.Describe(id);

    /// <summary>Closes every socket and namespace handle of the driver (so nothing of ours keeps a namespace alive).</summary>
    public void Dispose() => _namespaces.Dispose();
}
