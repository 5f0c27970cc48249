using VNetCompose.Kernel;

namespace VNetCompose.Core.Planning;

/// <summary>
/// Named namespaces: created when declared and missing (with lo up), recreated when left half-made by an
/// interrupted run of this instance, deleted when vnet created them and the topology no longer declares them
/// (their links, and the veth peers and links on them elsewhere, go with them).
/// </summary>
internal sealed class NamespacePlanner : IObjectPlanner
{
    public void Plan(PlanContext context)
    {
        var desired = context.Desired;
        var observed = context.Observed;
        foreach (var ns in desired.Namespaces.Where(n => !n.Id.IsCurrent))
        {
            var address = new NamespaceObject(ns.Id.Name!);
            context.Objects.Add(new PlanObject(address, []));
            if (observed.Exists(ns.Id)) continue;
            bool broken = observed.IsBroken(ns.Id);
            if (broken && !context.PreviouslyCreated().Contains(ns.Id.Name!))
            {
                // Never advise deleting it: it may be another process's namespace, half-way through its creation.
                context.Problems.Add(PlanProblem.Error($"/run/netns/{ns.Id.Name} exists but is not a mounted network namespace, and vnet did not create it "
                    + "(another process may be creating it, or an interrupted 'ip netns add' left it); vnet leaves it alone: try again, or choose another name", ns.Location));
                continue;
            }
            int change = context.AddChange(broken ? ChangeAction.Replace : ChangeAction.Create, address,
                ns.LoopbackUp ? [new AttributeChange("lo up", broken ? "false" : null, "true")] : [],
                broken ? "left half-created (not mounted) by an interrupted run" : null, ns.Location);
            if (broken) context.AddStep(new DeleteNamespaceStep(change, ns.Id.Name!));
            context.AddStep(new CreateNamespaceStep(change, ns.Id.Name!));
            // A new namespace's lo is down.
            if (ns.LoopbackUp)
            {
                context.AddStep(new UpdateLinkStep(change, StepRank.SetUp, ns.Id, "lo", new LinkUpdate(Up: true), new LinkUpdate())
                {
                    Needs = [address],
                });
            }
            context.Created.Add(ns.Id);
        }

        var wanted = desired.Namespaces.Select(n => n.Id).ToHashSet();
        foreach (var name in context.PreviouslyCreated().Order(StringComparer.Ordinal))
        {
            var id = NetnsId.Named(name);
            if (wanted.Contains(id) || !(observed.Exists(id) || observed.IsBroken(id))) continue;
            int change = context.AddChange(ChangeAction.Delete, new NamespaceObject(name), [],
                desired.TopologyName is null ? null : "created by vnet, no longer in the topology");
            context.AddStep(new DeleteNamespaceStep(change, name));
            context.Deleted.Add(id);
            foreach (var link in observed.Snapshot(id)?.Links ?? []) context.MarkGone(id, link, vanishesElsewhere: true);
        }
    }
}
