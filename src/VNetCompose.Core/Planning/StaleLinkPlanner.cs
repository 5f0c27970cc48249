using VNetCompose.Kernel;

namespace VNetCompose.Core.Planning;

/// <summary>Owned links the topology no longer declares are deleted (a veth with its peer, links on them with them).</summary>
internal sealed class StaleLinkPlanner : IObjectPlanner
{
    public void Plan(PlanContext context)
    {
        foreach (var (ns, snapshot) in context.Observed.Snapshots.OrderBy(s => s.Key.Name, StringComparer.Ordinal))
        {
            if (context.Deleted.Contains(ns)) continue;
            foreach (var link in snapshot.Links)
            {
                if (!context.Owned(link) || context.Gone.Contains((ns, link.Index)) || context.Fates.ContainsKey((ns, link.Name))) continue;
                ObjectAddress address = new LinkObject(ns, link.Name);
                var attributes = new List<AttributeChange> { new("kind", Kernel.Links.LinkKinds.Of(link)?.Name ?? link.Kind, null) };
                if (link.Peer is not null)
                {
                    var (peerNs, peer) = context.PeerOf(link);
                    if (peerNs is { } pns && peer is not null)
                    {
                        if (!context.Owned(peer))
                        {
                            context.Conflicts.Add(new PlanConflict(address,
                                $"owned veth whose peer {new LinkObject(pns, peer.Name).Path} was not created by vnet; vnet will not delete it", null));
                            continue;
                        }
                        address = new VethObject(new LinkObject(ns, link.Name), new LinkObject(pns, peer.Name));
                        attributes.Clear();
                    }
                    else
                    {
                        context.Problems.Add(PlanProblem.Warning(
                            $"deleting owned veth {new LinkObject(ns, link.Name).Path} also deletes its peer in a namespace vnet does not observe"));
                    }
                }
                var going = context.MarkGoneWith(ns, link, vanishesElsewhere: false);
                int change = context.AddChange(ChangeAction.Delete, address, attributes,
                    context.Desired.TopologyName is null ? null : "not in the topology");
                // Links on it (not its veth peer, part of this change) go with it: listed, with no step of their own.
                foreach (var (dns, dependent) in going.Where(g => address is not VethObject v || !g.Link.Name.Equals(v.B.Name) || g.Namespace != v.B.Namespace))
                {
                    context.AddChange(ChangeAction.Delete, new LinkObject(dns, dependent.Name),
                        [new("kind", Kernel.Links.LinkKinds.Of(dependent)?.Name ?? dependent.Kind, null)],
                        $"goes with {new LinkObject(ns, link.Name).Path}");
                }
                var frees = going.Select(g => new LinkObject(g.Namespace, g.Link.Name)).ToList();
                // A link on a parent goes before its parent (reverse dependencies), though the parent's deletion would take it along.
                var parent = link.IfLink is { Namespace: { } parentNs } iflink && link.Peer is null
                    ? context.ObservedLink(parentNs, iflink.Index) : null;
                context.AddStep(new DeleteLinkStep(change, ns, link.Name)
                {
                    AlsoFrees = frees,
                    Needs = parent is null ? [] : [new LinkObject(link.IfLink!.Namespace!.Value, parent.Name)],
                });
            }
        }
    }
}
