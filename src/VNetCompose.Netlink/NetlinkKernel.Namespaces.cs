using VNetCompose.Kernel;

namespace VNetCompose.Netlink;

public sealed partial class NetlinkKernel
{
    /// <summary>Equivalent to: <c>ip netns list</c>.</summary>
    public IReadOnlyList<string> ListNamespaces() => _namespaces.List();

    /// <summary>Equivalent to: <c>ip netns add NAME</c>.</summary>
    public void CreateNamespace(string name) => _namespaces.Create(name, loopbackAlias: null);

    /// <summary>
    /// Equivalent to: <c>ip netns add NAME</c> with <c>ip link set lo alias ALIAS</c> run inside the new namespace
    /// before it is bind-mounted under its name: a process killed in between leaves no unmarked namespace.
    /// </summary>
    public void CreateNamespace(string name, string loopbackAlias) => _namespaces.Create(name, loopbackAlias);

    /// <summary>Equivalent to: <c>stat -L -c %i /run/netns/NAME</c>, when that is a mounted namespace (nsfs).</summary>
    public ulong? NamespaceInode(string name) => _namespaces.InodeOf(name);

    /// <summary>Equivalent to: <c>ip netns del NAME</c>. Closes our own sockets in it first, so nothing
    /// of ours keeps the namespace (and its links) alive.</summary>
    public void DeleteNamespace(string name) => _namespaces.Delete(name);
}
