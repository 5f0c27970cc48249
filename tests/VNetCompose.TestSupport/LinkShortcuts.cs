using VNetCompose.Kernel;
using VNetCompose.Kernel.Links.Kinds;

namespace VNetCompose.TestSupport;

/// <summary>One end of a veth pair, for test setup through <see cref="LinkShortcuts.CreateVeth"/>.</summary>
public sealed record VethEndRequest(NetnsId Namespace, string Name, int? Mtu = null, string? Mac = null, string? Alias = null, uint Group = 0);

/// <summary>A bridge, for test setup through <see cref="LinkShortcuts.CreateBridge"/>.</summary>
public sealed record BridgeRequest(string Name, int? Mtu = null, string? Mac = null, string? Alias = null, bool Stp = false,
    bool VlanFiltering = false, uint Group = 0);

/// <summary>A tun/tap, for test setup through <see cref="LinkShortcuts.CreateTuntap"/>.</summary>
public sealed record TuntapRequest(string Name, TunMode Mode, int? Owner = null, int? Group = null, bool MultiQueue = false, int? Mtu = null,
    string? Mac = null, string? Alias = null, uint LinkGroup = 0, bool VnetHdr = false);

/// <summary>Test setup in the words tests read best, each one <see cref="IKernel.CreateLink"/> call.</summary>
public static class LinkShortcuts
{
    public static void CreateVeth(this IKernel kernel, VethEndRequest a, VethEndRequest b) =>
        kernel.CreateLink(a.Namespace, new LinkRequest(a.Name, new VethData(new VethPeerEnd(b.Namespace, b.Name, b.Mtu, b.Mac, b.Alias, b.Group)),
            Mtu: a.Mtu, Mac: a.Mac, Alias: a.Alias, Group: a.Group));

    public static void CreateBridge(this IKernel kernel, NetnsId ns, BridgeRequest request) =>
        kernel.CreateLink(ns, new LinkRequest(request.Name, new BridgeData(request.Stp, request.VlanFiltering),
            Mtu: request.Mtu, Mac: request.Mac, Alias: request.Alias, Group: request.Group));

    public static void CreateTuntap(this IKernel kernel, NetnsId ns, TuntapRequest request) =>
        kernel.CreateLink(ns, new LinkRequest(request.Name,
            new TunData(request.Mode, request.Owner, request.Group, request.MultiQueue, request.VnetHdr),
            Mtu: request.Mtu, Mac: request.Mac, Alias: request.Alias, Group: request.LinkGroup));
}
