using VNetCompose.Kernel.Links.Kinds;

namespace VNetCompose.Kernel.Links;

/// <summary>Every link kind vnet knows. Adding a kind is adding its descriptor file and one line here.</summary>
public static class LinkKinds
{
    /// <summary>veth pairs (<c>veths:</c>).</summary>
    public static VethKind Veth { get; } = new();

    /// <summary>Linux bridges (<c>bridges:</c> or <c>kind: bridge</c>).</summary>
    public static BridgeKind Bridge { get; } = new();

    /// <summary>tap devices (<c>taps:</c> with <c>mode: tap</c>, or <c>kind: tap</c>).</summary>
    public static TuntapKind Tap { get; } = new(TunMode.Tap);

    /// <summary>tun devices (<c>taps:</c> with <c>mode: tun</c>, or <c>kind: tun</c>).</summary>
    public static TuntapKind Tun { get; } = new(TunMode.Tun);

    /// <summary>macvlan links.</summary>
    public static MacvlanKind Macvlan { get; } = new();

    /// <summary>vxlan tunnels.</summary>
    public static VxlanKind Vxlan { get; } = new();

    /// <summary>macvtap links.</summary>
    public static MacvtapKind Macvtap { get; } = new();

    /// <summary>ipvlan links.</summary>
    public static IpvlanKind Ipvlan { get; } = new();

    /// <summary>802.1Q/802.1ad VLAN sub-interfaces.</summary>
    public static VlanKind Vlan { get; } = new();

    /// <summary>dummy links.</summary>
    public static DummyKind Dummy { get; } = new();

    /// <summary>ifb devices, made by vnet for links with <c>ingress:</c> (never declared).</summary>
    public static IfbKind Ifb { get; } = new();

    /// <summary>Every kind, in the order documentation lists them.</summary>
    public static IReadOnlyList<LinkKind> All { get; } = [Veth, Bridge, Tap, Tun, Macvlan, Macvtap, Vxlan, Ipvlan, Vlan, Dummy, Ifb];

    /// <summary>Kinds a <c>links:</c> entry may name (a veth pair is declared under <c>veths:</c>; vnet makes the ifbs it needs).</summary>
    public static IReadOnlyList<LinkKind> Declarable { get; } = All.Where(k => k != Veth && k != Ifb).ToList();

    /// <summary>The kind a topology names, or null.</summary>
    public static LinkKind? Named(string name) => All.FirstOrDefault(k => k.Name == name);

    /// <summary>The kind of an observed link, or null for one vnet does not know (lo, a physical NIC, a wireguard link).</summary>
    public static LinkKind? Of(LinkState link) => All.FirstOrDefault(k => k.Matches(link));

    /// <summary>The descriptor that decodes IFLA_INFO_DATA of this IFLA_INFO_KIND (tun and tap share one), or null.</summary>
    public static LinkKind? ForKernelKind(string kernelKind) => All.FirstOrDefault(k => k.KernelKind == kernelKind);
}
