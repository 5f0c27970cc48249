using System.Collections.Concurrent;
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
    /// and the parents of links in other namespaces are resolved to namespaces of the set. Namespaces that do not exist are absent from the result.
    /// </summary>
    public IReadOnlyDictionary<NetnsId, NamespaceSnapshot> Observe(IReadOnlyCollection<NetnsId> namespaces)
    {
        int perPart = PartSize;
        var dumps = new List<NamespaceDump>(namespaces.Count);
        foreach (var part in namespaces.Distinct().Chunk(perPart))
        {
            using var reading = _namespaces.ProtectFromNow();
            var handles = part.Select(id => _namespaces.TryGet(id, $"observing {In(id)}")).OfType<NamespaceHandle>().ToList();
            dumps.AddRange(ReadAll(handles, NetlinkProtocol.Route, i => NamespaceDump.Read(handles[i])));
        }
        var peers = PeerNamespaceResolver.Resolve(dumps, perPart, _namespaces.ProtectFromNow);

        return dumps.ToDictionary(d => d.Handle.Id, d => new NamespaceSnapshot(
            d.Handle.Id,
            d.Links.Select(l => WithDeviceNode(l.Link.IfLink is null ? l.Link : l.Link with
            {
                IfLink = l.Link.IfLink with
                {
                    Namespace = l.LinkNetnsId is not { } nsid ? d.Handle.Id
                        : peers.TryGetValue((d.Handle, nsid), out var peer) ? peer : null,
                },
            })).ToList(),
            d.Addresses,
            d.Routes));
    }

    /// <summary>
    /// Namespaces worked on at a time: as many as may be open at once (all of them, unless the descriptor limit is
    /// low); the handles of a part done earlier may be closed while the next part is worked on.
    /// </summary>
    private int PartSize => Math.Max(1, _namespaces.OpenBudget - NamespaceManager.ProtectedRecent - 1);

    /// <summary>
    /// <paramref name="read"/> of every handle (by its position). Sockets of <paramref name="protocol"/> still to be
    /// opened are opened by the namespace thread one after the other while the namespaces ready so far are read, by
    /// as many readers as there are CPUs.
    /// </summary>
    private static T[] ReadAll<T>(IReadOnlyList<NamespaceHandle> handles, NetlinkProtocol protocol, Func<int, T> read)
    {
        var dumps = new T[handles.Count];
        using var ready = new BlockingCollection<int>();
        var opening = Task.Run(() =>
        {
            try
            {
                NamespaceHandle.OpenSockets(handles, protocol, ready.Add);
            }
            finally
            {
                ready.CompleteAdding();
            }
        });
        AggregateException? failure = null;
        try
        {
            Parallel.For(0, Math.Min(Environment.ProcessorCount, handles.Count), _ =>
            {
                foreach (int i in ready.GetConsumingEnumerable()) dumps[i] = read(i);
            });
        }
        catch (AggregateException e)
        {
            failure = e;
        }
        try
        {
            opening.Wait(); // also when reading failed: the opener still hands over into the collection
        }
        catch (AggregateException e)
        {
            failure ??= e;
        }
        if (failure is not null)
        {
            // Callers expect the KernelException itself.
            var inner = failure.Flatten().InnerExceptions;
            ExceptionDispatchInfo.Throw(inner.FirstOrDefault(x => x is KernelException) ?? inner[0]);
        }
        return dumps;
    }
}
