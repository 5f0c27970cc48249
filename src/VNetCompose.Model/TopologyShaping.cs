namespace VNetCompose.Model;

/// <summary>Which way of a link shaping applies to.</summary>
public enum ShapedDirection
{
    /// <summary>What the link sends (<c>egress:</c>): its root qdisc.</summary>
    Egress,
    /// <summary>What the link receives (<c>ingress:</c>): redirected to an ifb whose root qdisc shapes it.</summary>
    Ingress,
}

/// <summary>Changing a topology's shaping in code (a test degrading a link mid-run), with the rules the loader applies.</summary>
public static class TopologyShaping
{
    /// <summary>
    /// The topology with one direction of one link shaped by <paramref name="impairment"/> (null: not shaped). The link
    /// is a veth end, a bridge, a tap or a <c>links:</c> entry, by topology namespace and name. A veth pair's
    /// <c>impair:</c> becomes both ends' <c>egress:</c> first, so that one end can change alone.
    /// </summary>
    /// <exception cref="ArgumentException">No such link, or the impairment breaks a rule (<see cref="Impairment.Check"/>).</exception>
    public static Topology WithShaping(this Topology topology, string ns, string link, ShapedDirection direction, Impairment? impairment)
    {
        ArgumentNullException.ThrowIfNull(topology);
        ArgumentNullException.ThrowIfNull(ns);
        ArgumentNullException.ThrowIfNull(link);
        if (impairment?.Check() is { Count: > 0 } problems)
            throw new ArgumentException("the impairment is not valid: " + string.Join("; ", problems.Select(p => $"{p.Key}: {p.Message}")), nameof(impairment));

        for (int i = 0; i < topology.Veths.Count; i++)
        {
            var veth = topology.Veths[i];
            bool a = veth.A.Namespace == ns && veth.A.Name == link, b = veth.B.Namespace == ns && veth.B.Name == link;
            if (!a && !b) continue;
            var split = veth.Impair is null ? veth
                : veth with { A = veth.A with { Egress = veth.Impair }, B = veth.B with { Egress = veth.Impair }, Impair = null };
            var changed = a ? split with { A = Shape(split.A, direction, impairment) } : split with { B = Shape(split.B, direction, impairment) };
            return topology with { Veths = [.. topology.Veths.Take(i), changed, .. topology.Veths.Skip(i + 1)] };
        }
        for (int i = 0; i < topology.Links.Count; i++)
        {
            var spec = topology.Links[i];
            if (spec.Namespace != ns || spec.Name != link) continue;
            var changed = direction == ShapedDirection.Egress ? spec with { Egress = impairment } : spec with { Ingress = impairment };
            return topology with { Links = [.. topology.Links.Take(i), changed, .. topology.Links.Skip(i + 1)] };
        }
        throw new ArgumentException($"topology {topology.Name} declares no link {link} in namespace {ns}", nameof(link));
    }

    private static VethEnd Shape(VethEnd end, ShapedDirection direction, Impairment? impairment) =>
        direction == ShapedDirection.Egress ? end with { Egress = impairment } : end with { Ingress = impairment };
}
