using VNetCompose.Core.Planning;
using VNetCompose.Kernel.Links.Kinds;
using VNetCompose.Model;

namespace VNetCompose.Core;

/// <summary>What <see cref="VNetEngine.Shape"/> did, and the topology that now describes the lab.</summary>
/// <param name="Result">The focused up: its plan holds only the changes to the link's shaping.</param>
/// <param name="Topology">The topology with the new shaping: what a later up or down of the lab should be given.</param>
public sealed record ShapeResult(UpResult Result, Topology Topology);

public sealed partial class VNetEngine
{
    /// <summary>
    /// Changes the shaping of one direction of one link of an instance that is up (a test degrading a link mid-run and
    /// restoring it): the up of <paramref name="topology"/> with that link's shaping replaced by <paramref name="impairment"/>
    /// (null: none), planned, applied and verified as <see cref="Up(Topology, LabOptions, UpOptions?, CancellationToken)"/> does, but with every plan narrowed to that
    /// shaping (the qdisc, and for ingress the ifb and its redirect), so nothing else is touched, and qdiscs changed in
    /// place. A teardown removes what it made, with the links. A kernel lacking a feature the impairment needs refuses
    /// it (<see cref="UpStatus.Refused"/>) with the key named and nothing changed.
    /// <para>A test fixture of the VNetCompose package does this with <c>LabFixture.ShapeAsync</c> or
    /// <c>lab["h1"].SetEgressAsync(link, impairment)</c> / <c>SetIngressAsync</c>, which keep
    /// <see cref="ShapeResult.Topology"/> as the lab's topology, so that its teardown and later changes start from it.</para>
    /// </summary>
    /// <param name="topology">The topology the lab was brought up from (or the last <see cref="ShapeResult.Topology"/>).</param>
    /// <param name="options">Where the lab lives.</param>
    /// <param name="ns">The link's namespace as the topology names it (<c>h1</c>, <c>host</c>).</param>
    /// <param name="link">The link's name: a veth end, a bridge, a tap or a <c>links:</c> entry.</param>
    /// <param name="direction">Egress (the link's root qdisc) or ingress (through an ifb).</param>
    /// <param name="impairment">The new shaping of that direction; null removes it.</param>
    /// <param name="up">As for <see cref="Up(Topology, LabOptions, UpOptions?, CancellationToken)"/>: rollback, waiting, the owner.</param>
    /// <param name="cancellationToken">Stops between steps, undoing what was done.</param>
    /// <exception cref="ArgumentException">The topology declares no such link, or the impairment breaks a rule.</exception>
    public ShapeResult Shape(Topology topology, LabOptions options, string ns, string link, ShapedDirection direction, Impairment? impairment,
        UpOptions? up = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(topology);
        ArgumentNullException.ThrowIfNull(options);
        var shaped = topology.WithShaping(ns, link, direction, impairment);
        var mapped = options.MapNamespace(ns);
        var objects = new HashSet<ObjectAddress> { new QdiscObject(new LinkObject(mapped, link), direction) };
        if (direction == ShapedDirection.Ingress) objects.Add(new LinkObject(mapped, IfbKind.NameFor(link)));
        var result = Up(shaped, options, up, plan => PlanFocus.Only(plan, objects), cancellationToken);
        return new ShapeResult(result, shaped);
    }
}
