using VNetCompose.Kernel;

namespace VNetCompose.Core.Planning;

/// <summary><c>lo</c> of every namespace with <c>loopback: true</c> is up (a namespace the plan creates gets it with its creation).</summary>
internal sealed class LoopbackPlanner : IObjectPlanner
{
    public void Plan(PlanContext context)
    {
        foreach (var ns in context.Desired.Namespaces.Where(n => n.LoopbackUp))
        {
            var lo = new LinkObject(ns.Id, "lo");
            context.Objects.Add(new PlanObject(lo, ns.Id.IsCurrent ? [] : [new NamespaceObject(ns.Id.Name!)]));
            if (context.Created.Contains(ns.Id) || context.Indexes.Of(ns.Id)?.FindLink("lo") is not { AdminUp: false }) continue;
            int change = context.AddChange(ChangeAction.Change, lo, [new("up", "false", "true")]);
            context.AddStep(new UpdateLinkStep(change, StepRank.SetUp, ns.Id, "lo", new LinkUpdate(Up: true), new LinkUpdate(Up: false)));
        }
    }
}
