using VNetCompose.Core.Desired;
using VNetCompose.Core.Observation;

namespace VNetCompose.Core.Planning;

/// <summary>
/// Diffs a desired state against an observed one. Pure and deterministic: no I/O, no clock, stable order; the
/// same inputs always give the same plan. One planner per object class works on a shared <see cref="PlanContext"/>;
/// the steps they make are then ordered by their dependencies (<see cref="StepGraph"/>).
/// <para>Ownership rules: only links carrying the instance's ifalias marker, routes with rtm_protocol
/// <see cref="Kernel.RouteProtocols.VNet"/>, the instance's NAT table and namespaces the state file says vnet
/// created are ever changed or deleted; addresses only on owned links. IPv6 link-local addresses and kernel
/// routes are ignored. A desired name held by a foreign object is a conflict.</para>
/// </summary>
public static class Planner
{
    /// <summary>Each object class's planner, in the order their changes are listed.</summary>
    private static readonly IObjectPlanner[] Planners =
    [
        new NamespacePlanner(),
        new LinkPlanner(),
        new LoopbackPlanner(),
        new StaleLinkPlanner(),
        new OvsPlanner(),
        new AddressPlanner(),
        new QdiscPlanner(),
        new RoutePlanner(),
        new SysctlPlanner(),
        new NatPlanner(),
    ];

    /// <summary>The plan that turns <paramref name="observed"/> into <paramref name="desired"/>.</summary>
    public static Plan Plan(DesiredState desired, ObservedState observed)
    {
        ArgumentNullException.ThrowIfNull(desired);
        ArgumentNullException.ThrowIfNull(observed);
        var context = new PlanContext(desired, observed);
        foreach (var planner in Planners) planner.Plan(context);
        return context.Build();
    }
}

/// <summary>Plans one class of objects into the shared context.</summary>
internal interface IObjectPlanner
{
    void Plan(PlanContext context);
}
