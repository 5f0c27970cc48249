using VNetCompose.Core.Observation;
using VNetCompose.Kernel;

namespace VNetCompose.Core.Planning;

/// <summary>
/// Named namespaces: created when declared and missing (with lo up, and lo's ifalias the instance's owner marker from
/// the start), recreated when left half-made by an interrupted run of this instance, and deleted when they are the instance's (the
/// kernel's marker says so, <see cref="NamespaceOwnership"/>) and the topology no longer declares them: their links,
/// and the veth peers and links on them elsewhere, go with them. A namespace of the instance that also holds objects
/// that are not the instance's is never deleted: only the instance's objects are removed from it, and it is left to
/// the other vnet instance whose objects it holds (its down deletes it) or, when it holds anything else, to no one.
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
            if (observed.Exists(ns.Id))
            {
                PlanExisting(context, ns.Id);
                continue;
            }
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
            context.AddStep(new CreateNamespaceStep(change, ns.Id.Name!, desired.NamespaceMarker));
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
        // The instance's namespaces the topology does not declare, found by the kernel's markers (the state file only
        // says where to look); broken entries by the state file's word (there is no namespace to mark).
        var going = observed.Snapshots.Keys.Where(id => !id.IsCurrent && !wanted.Contains(id)).Select(id => id.Name!)
            .Concat(context.PreviouslyCreated().Where(n => observed.IsBroken(NetnsId.Named(n))))
            .Distinct().Order(StringComparer.Ordinal);
        foreach (var name in going)
        {
            var id = NetnsId.Named(name);
            if (wanted.Contains(id)) continue;
            if (observed.IsBroken(id))
            {
                Delete(context, id, desired.TopologyName is null ? null : "created by vnet, no longer in the topology");
                continue;
            }
            var claim = context.Claim(id);
            if (claim == NamespaceClaim.NotTheOneCreated)
            {
                NotTheOneCreated(context, name);
                continue;
            }
            if (!NamespaceOwnership.IsOwned(claim)) continue;
            var contents = NamespaceContents.Of(desired.Instance, observed.Snapshot(id)!, observed.NamespaceTables.GetValueOrDefault(id),
                observed.Ovs?.Switch);
            if (contents.OnlyOurs)
            {
                Delete(context, id, desired.TopologyName is null ? null : "created by vnet, no longer in the topology");
                continue;
            }
            LeaveInPlace(context, id, contents);
        }
    }

    /// <summary>A declared namespace that exists: said so when the state file or a marker claims it but the kernel disagrees.</summary>
    private static void PlanExisting(PlanContext context, NetnsId id)
    {
        if (context.Claim(id) == NamespaceClaim.NotTheOneCreated) NotTheOneCreated(context, id.Name!);
    }

    private static void NotTheOneCreated(PlanContext context, string name)
    {
        context.Problems.Add(PlanProblem.Warning($"namespace {name} is not the namespace vnet created for {context.Desired.Instance} "
            + "(its lo carries no owner marker of the instance, or its inode is not the recorded one: it was deleted and created again, "
            + "or the state file was edited); vnet uses it as it is and never deletes it"));
    }

    private static void Delete(PlanContext context, NetnsId id, string? reason)
    {
        int change = context.AddChange(ChangeAction.Delete, new NamespaceObject(id.Name!), [], reason);
        context.AddStep(new DeleteNamespaceStep(change, id.Name!)
        {
            ExpectedInode = context.Observed.NamespaceInodes.TryGetValue(id.Name!, out ulong inode) ? inode : null,
        });
        context.Deleted.Add(id);
        foreach (var link in context.Observed.Snapshot(id)?.Links ?? []) context.MarkGone(id, link, vanishesElsewhere: true);
    }

    /// <summary>
    /// The instance's namespace holds objects that are not the instance's: deleting it would take them along. Only the
    /// instance's objects are removed from it (the other planners do that: it is not deleted), and it is left to the one
    /// other vnet instance whose objects it holds (whose down deletes it once it holds only that instance's), or to no one.
    /// </summary>
    private static void LeaveInPlace(PlanContext context, NetnsId id, NamespaceContents contents)
    {
        string instance = context.Desired.Instance;
        string? heir = contents.OnlyVnet ? contents.OtherInstances[0] : null;
        string next = heir is null ? "" : Ownership.NamespaceMarker(heir);
        string what = contents.Describe();
        context.Problems.Add(PlanProblem.Warning($"namespace {id.Name} holds {what}: vnet removes only {instance}'s objects from it and leaves it in place, "
            + (heir is null ? "no longer marked as vnet's" : $"to vnet instance {heir}, whose down deletes it")));
        string current = context.Desired.NamespaceMarker;
        int change = context.AddChange(ChangeAction.Change, new NamespaceObject(id.Name!),
            [new AttributeChange("owner", current, heir is null ? "none" : next)], $"it holds {what}");
        context.AddStep(MarkStep(change, id, next, current));
    }

    /// <summary>Sets lo's ifalias (the namespace's owner marker; empty clears it).</summary>
    private static UpdateLinkStep MarkStep(int change, NetnsId id, string marker, string previous) =>
        new(change, StepRank.ConfigureLink, id, "lo", new LinkUpdate(Alias: marker), new LinkUpdate(Alias: previous));
}
