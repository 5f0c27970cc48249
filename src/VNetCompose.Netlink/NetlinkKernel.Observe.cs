using System.Runtime.ExceptionServices;
using VNetCompose.Kernel;
using VNetCompose.Netlink.Interop;
using VNetCompose.Netlink.Namespaces;
using VNetCompose.Netlink.Observation;

namespace VNetCompose.Netlink;

public sealed partial class NetlinkKernel
{
    /// <summary>
    /// Equivalent to: <c>ip -d link show; ip addr show; ip route show; ip -6 route show</c> in each
    /// namespace, as one dump per object class and namespace, namespaces read in parallel. Veth peers
    /// are resolved to namespaces of the set. Namespaces that do not exist are absent from the result.
    /// </summary>
    public IReadOnlyDictionary<NetnsId, NamespaceSnapshot> Observe(IReadOnlyCollection<NetnsId> namespaces)
    {
        var handles = namespaces.Distinct()
            .Select(id => _namespaces.TryGet(id, $"observing {In(id)}"))
            .OfType<NamespaceHandle>()
            .ToList();
        NamespaceHandle.OpenSockets(handles, NetlinkProtocol.Route);
        var dumps = new NamespaceDump[handles.Count];
        try
        {
            Parallel.For(0, handles.Count, i => dumps[i] = NamespaceDump.Read(handles[i]));
        }
        catch (AggregateException e) when (e.InnerExceptions.FirstOrDefault(x => x is KernelException) is { } refusal)
        {
            ExceptionDispatchInfo.Throw(refusal); // callers expect the KernelException itself
        }
        var peers = PeerNamespaceResolver.Resolve(dumps);

        return dumps.ToDictionary(d => d.Handle.Id, d => new NamespaceSnapshot(
            d.Handle.Id,
            d.Links.Select(l => l.Link.Veth is null ? l.Link : l.Link with
            {
                Veth = l.Link.Veth with
                {
                    PeerNamespace = l.PeerNetnsId is not { } nsid ? d.Handle.Id
                        : peers.TryGetValue((d.Handle, nsid), out var peer) ? peer : null,
                },
            }).ToList(),
            d.Addresses,
            d.Routes));
    }
}
