using VNetCompose.Kernel.Links.Kinds;
using System.Net;
using VNetCompose.Kernel;
using VNetCompose.TestSupport;

namespace VNetCompose.Netlink.Tests.Kernel;

/// <summary>
/// Builds by hand, through the driver, every object kind of a docker0-style lab (the "host" namespace
/// being a sandbox namespace) and reads it back: our observation must show exactly what was built and
/// agree with iproute2, and traffic must flow across the bridge.
/// </summary>
public sealed class Docker0LayoutTests : KernelTestBase
{
    private const string Owner = "vnet:docker0-lab";

    [Fact]
    public void Docker0Lab_BuiltByHand_IsReadBackIdentically()
    {
        string host = Sandbox.Create("host"), ubuntu1 = Sandbox.Create("ubuntu1"), ubuntu2 = Sandbox.Create("ubuntu2");
        var (h, u1, u2) = (Ns(host), Ns(ubuntu1), Ns(ubuntu2));

        Kernel.CreateBridge(h, new BridgeRequest("docker0", Mtu: 1500, Mac: "02:42:8a:77:c4:8c", Alias: Owner));
        Kernel.CreateBridge(h, new BridgeRequest("br0", Stp: true, Alias: Owner));
        Kernel.AddAddress(h, "docker0", IPAddress.Parse("172.17.0.1"), 16);
        Kernel.CreateVeth(new VethEndRequest(u1, "eth0", Alias: Owner), new VethEndRequest(h, "vethd52f2b1", Alias: Owner));
        Kernel.CreateVeth(new VethEndRequest(u2, "eth0", Mtu: 1500, Alias: Owner), new VethEndRequest(h, "vethbb7c5c5", Alias: Owner));
        Kernel.CreateTuntap(h, new TuntapRequest("tap0", TunMode.Tap, Alias: Owner));
        Kernel.CreateTuntap(u1, new TuntapRequest("tun0", TunMode.Tun, Owner: 4242, Group: 4242, Alias: Owner));
        foreach (var port in new[] { "vethd52f2b1", "vethbb7c5c5" })
        {
            Kernel.UpdateLink(h, port, new LinkUpdate(Master: "docker0", Up: true));
        }
        Kernel.UpdateLink(h, "tap0", new LinkUpdate(Master: "br0", Up: true));
        foreach (var name in new[] { "docker0", "br0" }) Kernel.UpdateLink(h, name, new LinkUpdate(Up: true));
        foreach (var ns in new[] { u1, u2 })
        {
            Kernel.UpdateLink(ns, "lo", new LinkUpdate(Up: true));
            Kernel.UpdateLink(ns, "eth0", new LinkUpdate(Up: true));
        }
        Kernel.UpdateLink(u1, "tun0", new LinkUpdate(Up: true));
        Kernel.AddAddress(u1, "eth0", IPAddress.Parse("172.17.0.2"), 16);
        Kernel.AddAddress(u2, "eth0", IPAddress.Parse("172.17.0.3"), 16);
        Kernel.AddAddress(u2, "eth0", IPAddress.Parse("fd00::3"), 64);
        Kernel.AddAddress(u1, "tun0", IPAddress.Parse("10.8.0.1"), 24);
        Kernel.WriteSysctl(u1, "net.ipv4.ip_forward", "1");
        foreach (var ns in new[] { u1, u2 })
        {
            Kernel.ReplaceRoute(ns, new RouteRequest(IPAddress.Any, 0, Gateway: IPAddress.Parse("172.17.0.1"), Device: "eth0", Metric: 100));
        }

        var observed = Kernel.Observe([h, u1, u2]);

        Describe(observed, h).Should().BeEquivalentTo(
            "lo kind= master= up=False alias=",
            $"docker0 kind=bridge master= up=True alias={Owner} mac=02:42:8a:77:c4:8c mtu=1500 stp=False",
            $"br0 kind=bridge master= up=True alias={Owner} stp=True",
            $"vethd52f2b1 kind=veth master=docker0 up=True alias={Owner} peer={ubuntu1}/eth0",
            $"vethbb7c5c5 kind=veth master=docker0 up=True alias={Owner} peer={ubuntu2}/eth0",
            $"tap0 kind=tun master=br0 up=True alias={Owner} tun=Tap owner= group= persist=True");
        Describe(observed, u1).Should().BeEquivalentTo(
            "lo kind= master= up=True alias=",
            $"eth0 kind=veth master= up=True alias={Owner} peer={host}/vethd52f2b1",
            $"tun0 kind=tun master= up=True alias={Owner} tun=Tun owner=4242 group=4242 persist=True");
        Describe(observed, u2).Should().BeEquivalentTo(
            "lo kind= master= up=True alias=",
            $"eth0 kind=veth master= up=True alias={Owner} peer={host}/vethbb7c5c5");

        Addresses(observed[h]).Should().Contain("docker0 172.17.0.1/16");
        Addresses(observed[u1]).Should().Contain(["eth0 172.17.0.2/16", "tun0 10.8.0.1/24"]);
        Addresses(observed[u2]).Should().Contain(["eth0 172.17.0.3/16", "eth0 fd00::3/64"]);
        foreach (var ns in new[] { u1, u2 })
        {
            observed[ns].Routes.Where(r => r.Protocol == RouteProtocols.VNet).Select(r => $"{r.Destination}/{r.PrefixLength} via {r.Gateway} metric {r.Metric}")
                .Should().Equal("0.0.0.0/0 via 172.17.0.1 metric 100");
        }
        Kernel.ReadSysctl(u1, "net.ipv4.ip_forward").Should().Be("1");
        ShouldMatchOracle(host, ubuntu1, ubuntu2);
        Ping.Between(ubuntu1, "172.17.0.3").Should().BeTrue("ubuntu1 reaches ubuntu2 through docker0");
        Ping.Between(ubuntu2, "172.17.0.1").Should().BeTrue("ubuntu2 reaches the bridge's address");
    }

    /// <summary>Each link of <paramref name="ns"/> in words, masters and veth peers by name.</summary>
    private static IEnumerable<string> Describe(IReadOnlyDictionary<NetnsId, NamespaceSnapshot> all, NetnsId ns)
    {
        var snapshot = all[ns];
        return snapshot.Links.Select(l =>
        {
            string text = $"{l.Name} kind={l.Kind} master={(l.MasterIndex == 0 ? "" : snapshot.FindLink(l.MasterIndex)!.Name)} up={l.AdminUp} alias={l.Alias}";
            if (l.Name == "docker0") text += $" mac={l.Mac} mtu={l.Mtu}";
            if (l.Data is BridgeData bridge) text += $" stp={bridge.Stp}";
            if (l.Peer is { } veth) text += $" peer={veth.Namespace!.Value.Name}/{all[veth.Namespace.Value].FindLink(veth.Index)!.Name}";
            if (l.Data is TunData tun) text += $" tun={tun.Mode} owner={tun.Owner} group={tun.Group} persist={tun.Persist}";
            return text;
        });
    }

    private static IEnumerable<string> Addresses(NamespaceSnapshot snapshot) =>
        snapshot.Addresses.Select(a => $"{snapshot.FindLink(a.LinkIndex)!.Name} {a.Address}/{a.PrefixLength}");
}
