using VNetCompose.Kernel;

namespace VNetCompose.Netlink;

public sealed partial class NetlinkKernel
{
    /// <summary>Equivalent to: <c>ip netns list</c>.</summary>
    public IReadOnlyList<string> ListNamespaces() => _namespaces.List();

    /// <summary>Equivalent to: <c>ip netns add NAME</c>.</summary>
    public void CreateNamespace(string name) => _namespaces.Create(name);

    /// <summary>Equivalent to: <c>ip netns del NAME</c>. Closes our own sockets in it first, so nothing
    /// of ours keeps the namespace (and its links) alive.</summary>
    public void DeleteNamespace(string name) => _namespaces.Delete(name);
}
