using VNetCompose.Kernel.Links;

namespace VNetCompose.Model.Loading;

/// <summary>
/// Turns a draft into the immutable <see cref="Topology"/>. Called only when the file has no error, so every
/// value a record needs was read; a missing one is a bug in a section reader, not a user error.
/// </summary>
internal static class TopologyBuilder
{
    public static Topology Build(TopologyDraft draft, DiagnosticBag diagnostics)
    {
        return new Topology(
            Present(draft.Version),
            Present(draft.Name),
            diagnostics.File,
            draft.Namespaces.Select(ns => Namespace(ns, diagnostics)).ToArray(),
            draft.Interfaces.Where(l => l.Kind != LinkKinds.Veth).Select(l => Link(l, diagnostics)).ToArray(),
            draft.Veths.Select(v => new VethSpec(VethEnd(v.A, diagnostics), VethEnd(v.B, diagnostics), diagnostics.Locate(v.At, v.Path))
            {
                Impair = v.Impair?.Value,
            }).ToArray(),
            [.. draft.Nat])
        {
            OvsBridges = [.. draft.OvsBridges.Select(b => new OvsBridgeSpec(Present(b.Name).Value, Present(b.Namespace), b.Datapath,
                [.. b.Addresses.Select(a => a.Value)], b.Stp, b.FailMode, diagnostics.Locate(b.At, b.Path)))],
        };
    }

    private static NamespaceSpec Namespace(NamespaceDraft ns, DiagnosticBag diagnostics) => new(
        ns.Name.Value,
        ns.Loopback,
        ns.Sysctls,
        ns.Routes.Select(r => new RouteSpec(r.To, r.Via?.Value, r.Dev?.Value, r.Metric, diagnostics.Locate(r.At, r.Path))).ToArray(),
        diagnostics.Locate(ns.Name.At, ns.Name.Path));

    private static LinkSpec Link(InterfaceDraft link, DiagnosticBag diagnostics) => new(
        Present(link.Name).Value, link.Kind, Present(link.Namespace), Addresses(link), Mtu(link), link.Mac?.Value, link.Bridge?.Value,
        link.Up,
        link.Parent is { } parent ? new LinkParentSpec(parent.Value.Namespace, parent.Value.Name, diagnostics.Locate(parent.At, parent.Path)) : null,
        Present(link.Data), diagnostics.Locate(link.At, link.Path))
    {
        Egress = link.Egress?.Value,
        Ingress = link.Ingress?.Value,
        OvsPort = OvsPort(link),
    };

    private static VethEnd VethEnd(InterfaceDraft link, DiagnosticBag diagnostics) => new(
        Present(link.Namespace), Present(link.Name).Value, Addresses(link), Mtu(link), link.Mac?.Value, link.Bridge?.Value, link.Up,
        diagnostics.Locate(link.At, link.Path))
    {
        Egress = link.Egress?.Value,
        Ingress = link.Ingress?.Value,
        OvsPort = OvsPort(link),
    };

    private static OvsPortSpec? OvsPort(InterfaceDraft link) => link.OvsPort is { } port
        ? new OvsPortSpec((int?)port.Vlan?.Value, [.. port.Trunks.Select(t => (int)t.Value).Order()])
        : null;

    private static IfAddress[] Addresses(InterfaceDraft link) => link.Addresses.Select(a => a.Value).ToArray();

    private static int? Mtu(InterfaceDraft link) => (int?)link.Mtu?.Value;

    private static T Present<T>(T? value) where T : class =>
        value ?? throw new InvalidOperationException($"a {typeof(T).Name} is missing from a topology without errors");

    private static T Present<T>(T? value) where T : struct =>
        value ?? throw new InvalidOperationException($"a {typeof(T).Name} is missing from a topology without errors");
}
