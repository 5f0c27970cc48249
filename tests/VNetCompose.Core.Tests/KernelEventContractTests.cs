using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using VNetCompose.Kernel;
using VNetCompose.Kernel.Links;
using VNetCompose.Kernel.Links.Kinds;
using VNetCompose.Netlink;
using VNetCompose.Testing;
using VNetCompose.TestSupport;

namespace VNetCompose.Core.Tests;

/// <summary>
/// One script of kernel writes (the ones <c>up</c>, a repair and a hand change make) run on the real kernel and on the
/// in-memory one, each watched by its own <see cref="IKernelEvents"/> subscription: after each write, the events it
/// caused must be the same, normalised. The watch's unit tests run on the model; this keeps the model's events
/// honest. Normalised: a link by namespace and name, its changes by the configured attributes that changed (the
/// kernel's asynchronous carrier and operstate notifications are left out); IPv6 link-local addresses and routes
/// (the kernel adds them after duplicate address detection, at its own pace) and the values of a device's whole
/// netconf are left out; each write's events compared as a set.
/// </summary>
public sealed class KernelEventContractTests : IDisposable
{
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(300), Longest = TimeSpan.FromSeconds(5);
    private readonly SandboxNamespaces _sandbox = new();

    public void Dispose() => _sandbox.Dispose();

    [Fact]
    public async Task RealAndInMemoryKernel_RaiseTheSameEvents_ForEachWrite()
    {
        string a = _sandbox.Name("a"), b = _sandbox.Name("b");
        List<string> real;
        using (var kernel = new NetlinkKernel())
        {
            real = await Transcript(kernel, a, b, foreignTable: () => _sandbox.Exec(b, "nft", "add table ip other").EnsureSuccess());
        }
        var model = new InMemoryKernel();
        var modelled = await Transcript(model, a, b,
            foreignTable: () => model.AddForeignNftTable(NetnsId.Named(b), new NftTableInfo("ip", "other", [], OwnedByVnet: false)));

        string.Join('\n', modelled).Should().Be(string.Join('\n', real));
    }

    [Fact]
    public async Task InMemoryKernel_LosesEventsAsOnOverflow_AndSaysSoWithOneResync()
    {
        var model = new InMemoryKernel();
        var ns = NetnsId.Named("n");
        model.CreateNamespace("n");
        await using var subscription = model.Subscribe([ns], new KernelWatchOptions { QueueCapacity = 2 });

        model.CreateBridge(ns, new BridgeRequest("br0")); // 3 events: the bridge and its IPv4 and IPv6 configuration
        model.DeliverEvents(); // all at once, before anything is read
        var events = await Collect(subscription, TimeSpan.FromMilliseconds(100));
        events.Should().HaveCount(3);
        events[^1].Should().BeOfType<ResyncNeeded>().Which.Reason.Should().Contain("ENOBUFS");

        model.LoseEvents(ns);
        model.UpdateLink(ns, "br0", new LinkUpdate(Mtu: 1400));
        model.DeliverEvents();
        (await Collect(subscription, TimeSpan.FromMilliseconds(100))).Should().ContainSingle().Which.Should().BeOfType<ResyncNeeded>();

        model.UpdateLink(ns, "br0", new LinkUpdate(Mtu: 1300));
        model.DeliverEvents();
        (await Collect(subscription, TimeSpan.FromMilliseconds(100))).Should().ContainSingle()
            .Which.Should().BeOfType<LinkEvent>().Which.Link.Mtu.Should().Be(1300);
    }

    private static async Task<List<KernelEvent>> Collect(IKernelEventSubscription subscription, TimeSpan quiet)
    {
        var events = new List<KernelEvent>();
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < Longest)
        {
            using var wait = new CancellationTokenSource(quiet);
            try
            {
                if (!await subscription.Events.WaitToReadAsync(wait.Token)) break;
            }
            catch (OperationCanceledException)
            {
                break;
            }
            while (subscription.Events.TryRead(out var e)) events.Add(e);
        }
        return events;
    }

    /// <summary>The script, on <paramref name="kernel"/>: each write and the normalised events it caused.</summary>
    private static async Task<List<string>> Transcript(IKernel kernel, string aName, string bName, Action foreignTable)
    {
        NetnsId a = NetnsId.Named(aName), b = NetnsId.Named(bName);
        var names = new Dictionary<NetnsId, string> { [a] = "a", [b] = "b" };
        var normaliser = new Normaliser(names);
        var tc = kernel.TrafficControl!;
        var transcript = new List<string>();
        await using var subscription = ((IKernelEvents)kernel).Subscribe([a, b]);

        async Task Step(string what, Action write)
        {
            write();
            transcript.Add(what + ":");
            transcript.AddRange(normaliser.Lines(await Collect(subscription, Quiet)).Select(line => "  " + line));
            // What the events may leave unsaid (the routes flushed in silence) must agree too.
            foreach (var (id, snapshot) in kernel.Observe([a, b]).OrderBy(s => names[s.Key], StringComparer.Ordinal))
                transcript.Add($"  = {names[id]}: " + State(snapshot));
        }
        RouteRequest Route(string to, int length, string via) =>
            new(IPAddress.Parse(to), length, IPAddress.Parse(via));
        NatTableState Nat(params string[] sources) => new("vnet-contract",
            [.. sources.Select(s => new NatRuleState(NatChain.Postrouting, NatVerdictKind.Masquerade, Source: IPNetwork.Parse(s)))]);

        await Step("create namespace a", () => kernel.CreateNamespace(aName));
        await Step("create namespace b", () => kernel.CreateNamespace(bName));
        await Step("create veth a/eth0 b/p0", () => kernel.CreateVeth(new VethEndRequest(a, "eth0"), new VethEndRequest(b, "p0")));
        await Step("create bridge b/br0", () => kernel.CreateBridge(b, new BridgeRequest("br0")));
        await Step("p0 into br0", () => kernel.UpdateLink(b, "p0", new LinkUpdate(Master: "br0")));
        await Step("mtu of eth0", () => kernel.UpdateLink(a, "eth0", new LinkUpdate(Mtu: 1400)));
        await Step("IPv4 address on eth0 (down)", () => kernel.AddAddress(a, "eth0", IPAddress.Parse("10.0.1.1"), 24));
        await Step("IPv6 address on eth0 (down)", () => kernel.AddAddress(a, "eth0", IPAddress.Parse("fd00:1::1"), 64));
        await Step("address on br0", () => kernel.AddAddress(b, "br0", IPAddress.Parse("10.0.1.254"), 24));
        await Step("eth0 up", () => kernel.UpdateLink(a, "eth0", new LinkUpdate(Up: true)));
        await Step("p0 up", () => kernel.UpdateLink(b, "p0", new LinkUpdate(Up: true)));
        await Step("br0 up", () => kernel.UpdateLink(b, "br0", new LinkUpdate(Up: true)));
        await Step("default route", () => kernel.ReplaceRoute(a, Route("0.0.0.0", 0, "10.0.1.254")));
        await Step("route added", () => kernel.ReplaceRoute(a, Route("10.99.0.0", 16, "10.0.1.254")));
        await Step("route replaced", () => kernel.ReplaceRoute(a, Route("10.99.0.0", 16, "10.0.1.253")));
        await Step("route deleted", () => kernel.DeleteRoute(a, Route("10.99.0.0", 16, "10.0.1.253")));
        await Step("ip_forward", () => kernel.WriteSysctl(a, "net.ipv4.ip_forward", "1"));
        await Step("ipv6 default forwarding", () => kernel.WriteSysctl(a, "net.ipv6.conf.default.forwarding", "1"));
        await Step("rp_filter", () => kernel.WriteSysctl(b, "net.ipv4.conf.all.rp_filter", "1"));
        await Step("somaxconn (not announced)", () => kernel.WriteSysctl(a, "net.core.somaxconn", "100"));
        await Step("NAT table created", () => kernel.ReplaceNatTable(b, Nat("10.0.1.0/24")));
        await Step("NAT table replaced", () => kernel.ReplaceNatTable(b, Nat("10.0.1.0/24", "10.0.2.0/24")));
        await Step("another table", foreignTable);
        await Step("tbf on eth0", () => tc.ReplaceRootQdisc(a, "eth0", new TbfParameters(1_250_000, 10_000, 60_000)));
        await Step("tbf changed", () => tc.ReplaceRootQdisc(a, "eth0", new TbfParameters(2_500_000, 10_000, 60_000)));
        await Step("ifb created", () => kernel.CreateLink(b, new LinkRequest("ifb0", new IfbData())));
        await Step("ifb up", () => kernel.UpdateLink(b, "ifb0", new LinkUpdate(Up: true)));
        await Step("ingress redirect", () => tc.ReplaceIngressRedirect(b, "p0", "ifb0"));
        await Step("ingress redirect removed", () => tc.DeleteIngressRedirect(b, "p0"));
        await Step("tbf deleted", () => tc.DeleteRootQdisc(a, "eth0"));
        await Step("eth0 down", () => kernel.UpdateLink(a, "eth0", new LinkUpdate(Up: false)));
        await Step("eth0 up again", () => kernel.UpdateLink(a, "eth0", new LinkUpdate(Up: true)));
        await Step("default route again", () => kernel.ReplaceRoute(a, Route("0.0.0.0", 0, "10.0.1.254")));
        await Step("IPv4 address deleted", () => kernel.DeleteAddress(a, "eth0", IPAddress.Parse("10.0.1.1"), 24));
        await Step("NAT table deleted", () => kernel.DeleteNatTable(b, "vnet-contract"));
        await Step("bridge deleted", () => kernel.DeleteLink(b, "br0"));
        await Step("namespace a deleted", () => kernel.DeleteNamespace(aName));
        return transcript;
    }

    /// <summary>The addresses and routes of a namespace, without the IPv6 link-local ones.</summary>
    private static string State(NamespaceSnapshot snapshot)
    {
        string Link(int index) => snapshot.FindLink(index)?.Name ?? "#" + index;
        var addresses = snapshot.Addresses.Where(x => !x.Address.IsIPv6LinkLocal).Select(x => $"{x.Address}/{x.PrefixLength} on {Link(x.LinkIndex)}");
        var routes = snapshot.Routes.Where(r => !r.Destination.IsIPv6LinkLocal)
            .Select(r => $"{r.Destination}/{r.PrefixLength} via {r.Gateway?.ToString() ?? "-"} dev {Link(r.OutputIndex)}");
        return string.Join(", ", addresses.Order(StringComparer.Ordinal)) + "; routes " + string.Join(", ", routes.Order(StringComparer.Ordinal));
    }

    /// <summary>Events as comparable text (see the class summary).</summary>
    private sealed class Normaliser(Dictionary<NetnsId, string> names)
    {
        private readonly Dictionary<(NetnsId, int), LinkState> _links = [];

        public IEnumerable<string> Lines(List<KernelEvent> events)
        {
            var lines = new SortedSet<string>(StringComparer.Ordinal);
            var appearedOrGone = events.OfType<LinkEvent>().Where(e => e.Change != KernelChange.Changed)
                .Select(e => (e.Namespace, e.Link.Index)).ToHashSet();
            // Names first: a device's netconf comes before the device itself.
            var before = new Dictionary<(NetnsId, int), LinkState>(_links);
            foreach (var l in events.OfType<LinkEvent>()) _links[(l.Namespace, l.Link.Index)] = l.Link;
            foreach (var e in events)
            {
                if (Line(e, before, appearedOrGone) is { } line) lines.Add(line);
            }
            foreach (var l in events.OfType<LinkEvent>().Where(l => l.Change == KernelChange.Removed)) _links.Remove((l.Namespace, l.Link.Index));
            return lines;
        }

        private string Ns(NetnsId id) => names.GetValueOrDefault(id, id.ToString());

        private string Link(NetnsId ns, int index) => _links.TryGetValue((ns, index), out var l) ? l.Name : "#" + index;

        private static string Word(KernelChange change) => change.ToString().ToLowerInvariant();

        private string? Line(KernelEvent e, Dictionary<(NetnsId, int), LinkState> previous, HashSet<(NetnsId, int)> appearedOrGone)
        {
            string ns = Ns(e.Namespace);
            switch (e)
            {
                case NamespaceEvent n:
                    return $"namespace {ns} {Word(n.Change)}";
                case LinkEvent l:
                    var key = (l.Namespace, l.Link.Index);
                    var before = previous.GetValueOrDefault(key);
                    if (l.Change == KernelChange.Changed) previous[key] = l.Link;
                    if (l.Change != KernelChange.Changed) return $"link {ns}/{l.Link.Name} {Word(l.Change)}";
                    if (appearedOrGone.Contains(key) || before is null) return null;
                    var changed = Configured(before, l.Link);
                    return changed.Length == 0 ? null : $"link {ns}/{l.Link.Name} changed {changed}";
                case AddressEvent ad when ad.Address.Address.IsIPv6LinkLocal:
                    return null;
                case AddressEvent ad:
                    return $"address {ad.Address.Address}/{ad.Address.PrefixLength} on {ns}/{Link(ad.Namespace, ad.Address.LinkIndex)} {Word(ad.Change)}";
                case RouteEvent r when r.Route.Destination.IsIPv6LinkLocal:
                    return null;
                case RouteEvent r:
                    return string.Create(CultureInfo.InvariantCulture,
                        $"route {r.Route.Destination}/{r.Route.PrefixLength} via {r.Route.Gateway?.ToString() ?? "-"} dev {ns}/{Link(r.Namespace, r.Route.OutputIndex)} proto {r.Route.Protocol} metric {r.Route.Metric?.ToString(CultureInfo.InvariantCulture) ?? "-"} {Word(r.Change)}");
                case NetconfEvent c:
                    string family = c.IPv6 ? "ipv6" : "ipv4";
                    if (c.Device > 0) return $"netconf {family} {ns}/{Link(c.Namespace, c.Device)} {Word(c.Change)}";
                    string values = string.Join(",", c.Values.OrderBy(v => v.Key, StringComparer.Ordinal).Select(v => $"{v.Key}={v.Value}"));
                    return $"netconf {family} {ns} {(c.Device == NetconfEvent.AllDevices ? "all" : "default")} {values} {Word(c.Change)}";
                case TrafficControlEvent t:
                    string handle = t.Object == TrafficControlObject.Qdisc ? $" {t.Handle} parent {t.Parent}" : "";
                    return $"{t.Object.ToString().ToLowerInvariant()} {t.Kind}{handle} on {ns}/{Link(t.Namespace, t.LinkIndex)} {Word(t.Change)}";
                case NftEvent f:
                    return $"nft {f.Object.ToString().ToLowerInvariant()} {f.Family} {f.Table} {f.Name ?? "-"} in {ns} {Word(f.Change)}";
                case NftCommitEvent:
                    return $"nft commit in {ns}";
                case ResyncNeeded:
                    return $"resync {ns}";
                default:
                    return e.GetType().Name;
            }
        }

        /// <summary>The attributes a user or vnet sets that differ (operstate and carrier are the kernel's own).</summary>
        private static string Configured(LinkState before, LinkState after) => string.Join(",", new[]
        {
            before.Name != after.Name ? "name" : null,
            before.Mtu != after.Mtu ? "mtu" : null,
            before.AdminUp != after.AdminUp ? "up" : null,
            before.MasterIndex != after.MasterIndex ? "master" : null,
            before.Alias != after.Alias ? "alias" : null,
            // A bridge without a MAC address of its own takes its lowest port's (br_stp_recalculate_bridge_id); the model
            // keeps the one it was created with (a MAC set on the bridge stays, in both).
            before.Mac != after.Mac && after.Kind != "bridge" ? "mac" : null,
        }.OfType<string>());
    }
}
