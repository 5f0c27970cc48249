using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using VNetCompose.Kernel;
using VNetCompose.Kernel.Links;
using VNetCompose.Kernel.Links.Kinds;
using VNetCompose.Model;

namespace VNetCompose.Core.Exporting;

/// <summary>What <c>vnet export</c> reads.</summary>
/// <param name="Namespaces">Named namespaces (kernel names), exported under their names with <paramref name="Prefix"/> taken off.</param>
/// <param name="Host">The namespace exported as <c>host</c>: <see cref="NetnsId.Current"/> for the one vnet runs in, a named
/// one (a sandbox brought up with <c>--host-netns</c>), or null for none.</param>
/// <param name="Prefix">The prefix taken off the namespaces' names; null: none.</param>
/// <param name="Name">The topology's name; null: the instance's whose links these are (a lab vnet made, its prefix taken off),
/// else <c>exported</c>.</param>
public sealed record ExportRequest(IReadOnlyList<string> Namespaces, NetnsId? Host = null, string? Prefix = null, string? Name = null);

/// <summary>Something of the kernel's state the topology file does not say (or says differently), and where.</summary>
/// <param name="Namespace">The namespace as the topology names it.</param>
/// <param name="Text">What the file does not say, in words.</param>
public sealed record ExportNote(string Namespace, string Text)
{
    /// <inheritdoc/>
    public override string ToString() => $"{Namespace}: {Text}";
}

/// <summary>The exported topology, its file text, and what it leaves out.</summary>
public sealed record ExportResult(Topology Topology, string Yaml, IReadOnlyList<ExportNote> Notes);

/// <summary>The request names a namespace that is missing or cannot be a topology namespace; the message says which and why.</summary>
public sealed class ExportException(string message) : Exception(message);

/// <summary>
/// Reads the live state of namespaces and writes the topology that recreates it (<c>vnet export</c>): namespaces, veth
/// pairs between them (peers resolved across namespaces), bridges with their ports, tun/taps and every other link kind
/// of <see cref="LinkKinds"/> through its descriptor (<see cref="LinkKind.Describe"/> gives the values, parents come from
/// IFLA_LINK), addresses (not IPv6 link-local), routes (not the kernel's own), sysctls that differ from a new
/// namespace's, NAT rules of any nftables table the format can write (<see cref="ExportNat"/>), shaping
/// (<see cref="ExportShaping"/>). Whatever it cannot express becomes an <see cref="ExportNote"/>, written as a comment.
/// Stable: the same kernel state gives the same file, byte for byte (nothing depends on ifindexes or dump order
/// beyond the order of addresses and routes, which the kernel keeps).
/// </summary>
public static partial class KernelExporter
{
    private static readonly SourceLocation Nowhere = new("export", 1, 1, "");

    /// <summary>Reads and writes; throws <see cref="ExportException"/> for a namespace that does not exist or cannot be named.</summary>
    public static ExportResult Export(IKernel kernel, ExportRequest request)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        ArgumentNullException.ThrowIfNull(request);
        return new Exporter(kernel, request).Run();
    }

    private sealed record Member(NetnsId Id, string Name);

    private sealed class Exporter(IKernel kernel, ExportRequest request)
    {
        private readonly List<ExportNote> _notes = [];
        private readonly List<Member> _members = [];
        private IReadOnlyDictionary<NetnsId, NamespaceSnapshot> _snapshots = new Dictionary<NetnsId, NamespaceSnapshot>();
        private readonly Dictionary<NetnsId, IReadOnlyList<QdiscState>> _qdiscs = [];
        private readonly Dictionary<NetnsId, IReadOnlyList<IngressRedirectState>> _redirects = [];
        /// <summary>Links exported (as link specs or veth ends), by kernel namespace and ifindex.</summary>
        private readonly HashSet<(NetnsId, int)> _exported = [];
        /// <summary>ifbs whose shaping became an <c>ingress:</c>: vnet makes its own.</summary>
        private readonly HashSet<(NetnsId, int)> _absorbed = [];

        public ExportResult Run()
        {
            ResolveMembers();
            _snapshots = kernel.Observe(_members.Select(m => m.Id).ToList());
            ReadTrafficControl();

            var veths = new List<VethSpec>();
            var links = new List<LinkSpec>();
            // Which links are exported is decided first: a port's bridge and a link's parent must be among them.
            var plan = new List<(Member Member, LinkState Link, LinkKind? Kind)>();
            foreach (var member in _members)
            {
                foreach (var link in Snapshot(member).Links.OrderBy(l => l.Name, StringComparer.Ordinal))
                {
                    if (link.Name == "lo") continue;
                    plan.Add((member, link, LinkKinds.Of(link)));
                }
            }
            foreach (var (member, link, kind) in plan) Select(member, link, kind);
            foreach (var (member, link, kind) in plan)
            {
                if (!_exported.Contains((member.Id, link.Index))) continue;
                if (kind == LinkKinds.Veth) AddVeth(member, link, veths);
                else if (kind is not null) AddLink(member, link, kind, links);
            }

            var namespaces = _members.Where(m => !m.Id.Equals(request.Host)).OrderBy(m => m.Name, StringComparer.Ordinal)
                .Select(Namespace).ToList();
            var nat = _members.OrderBy(m => Order(m.Name)).SelectMany(Nat).ToList();
            AddImpliedForwarding(namespaces, nat);

            var topology = new Topology(1, request.Name ?? InstanceName(), "", namespaces,
                links.OrderBy(l => Order(l.Namespace)).ThenBy(l => l.Name, StringComparer.Ordinal).ToList(),
                veths.OrderBy(v => Order(v.A.Namespace)).ThenBy(v => v.A.Name, StringComparer.Ordinal).ToList(),
                nat);
            var notes = _notes.OrderBy(n => Order(n.Namespace)).ToList();
            string yaml = TopologyYamlWriter.Write(topology, Header(notes));
            return new ExportResult(topology, yaml, notes);
        }

        /// <summary>
        /// The topology name of the instance that made the exported links, when they all carry one instance's marker
        /// (<c>vnet:PREFIX+NAME</c>): exporting a lab vnet made keeps its name, so the export plans against the same instance.
        /// </summary>
        private string InstanceName()
        {
            const string fallback = "exported";
            var markers = _snapshots.SelectMany(s => s.Value.Links.Where(l => _exported.Contains((s.Key, l.Index))).Select(l => l.Alias)).Distinct().ToList();
            if (markers.Count != 1 || markers[0] is not { } marker || !marker.StartsWith("vnet:", StringComparison.Ordinal)) return fallback;
            string instance = marker["vnet:".Length..];
            string prefix = request.Prefix ?? "";
            if (!instance.StartsWith(prefix, StringComparison.Ordinal)) return fallback;
            string name = instance[prefix.Length..];
            return TopologyName().IsMatch(name) ? name : fallback;
        }

        // ---- namespaces ------------------------------------------------------------------------------------------

        private void ResolveMembers()
        {
            var existing = kernel.ListNamespaces().ToHashSet(StringComparer.Ordinal);
            if (request.Host is { } host)
            {
                if (!host.IsCurrent && !existing.Contains(host.Name!)) throw new ExportException($"no namespace {host.Name} (ip netns list)");
                _members.Add(new Member(host, Topology.HostNamespace));
            }
            foreach (string name in request.Namespaces.Distinct(StringComparer.Ordinal).Where(n => n != request.Host?.Name))
            {
                if (!existing.Contains(name)) throw new ExportException($"no namespace {name} (ip netns list)");
                string prefix = request.Prefix ?? "";
                if (!name.StartsWith(prefix, StringComparison.Ordinal) || name.Length == prefix.Length)
                    throw new ExportException($"namespace {name} does not start with the prefix '{prefix}'");
                string short_ = name[prefix.Length..];
                if (!NamespaceName().IsMatch(short_) || short_ is "." or ".." or Topology.HostNamespace)
                    throw new ExportException($"namespace {name} cannot be a topology namespace as '{short_}' (1-32 of A-Z a-z 0-9 _ . -, not host; "
                        + "export it as host with --host-netns, or take a prefix off with --prefix)");
                _members.Add(new Member(NetnsId.Named(name), short_));
            }
            if (_members.Count == 0) throw new ExportException("no namespace to export: name some, or give --all-named or --host");
        }

        private NamespaceSnapshot Snapshot(Member member) => _snapshots[member.Id];

        private Member? MemberOf(NetnsId? id) => id is { } ns ? _members.FirstOrDefault(m => m.Id == ns) : null;

        /// <summary>host first, then by name: the order of every section.</summary>
        private string Order(string ns) => ns == Topology.HostNamespace ? "" : "\u0001" + ns;

        private void Note(Member member, string text) => _notes.Add(new ExportNote(member.Name, text));

        private NamespaceSpec Namespace(Member member)
        {
            var snapshot = Snapshot(member);
            bool loopback = snapshot.FindLink("lo") is not { AdminUp: false };
            var sysctls = Sysctls(member);
            var routes = Routes(member);
            // loopback: false means "leave lo as it is", which for a namespace vnet creates is down, as here.
            return new NamespaceSpec(member.Name, loopback, sysctls, routes, Nowhere);
        }

        // ---- links -----------------------------------------------------------------------------------------------

        /// <summary>Decides whether the link is exported, noting why not.</summary>
        private void Select(Member member, LinkState link, LinkKind? kind)
        {
            if (kind is null || link.Data is null)
            {
                string what = link.Kind.Length == 0 ? "a device without a kind (physical or virtual NIC)" : $"kind {link.Kind}";
                if (link.Kind == "openvswitch") what = "an Open vSwitch port (export does not read OVSDB)";
                Note(member, $"link {link.Name} ({what}): not a link kind vnet creates");
                return;
            }
            if (kind == LinkKinds.Ifb)
            {
                if (!_absorbed.Contains((member.Id, link.Index)))
                    Note(member, $"link {link.Name} (ifb): vnet makes ifb devices itself, for 'ingress:' only; this one shapes no ingress the format expresses");
                return;
            }
            if (link.Data is TunData { Persist: false })
            {
                Note(member, $"link {link.Name} ({kind.Name}): not persistent (a program's own device, gone when it closes)");
                return;
            }
            if (kind == LinkKinds.Veth)
            {
                if (link.Peer is not { Namespace: { } peerNs } peer || MemberOf(peerNs) is null || _snapshots[peerNs].FindLink(peer.Index) is null)
                {
                    Note(member, $"veth {link.Name}: its peer is in a namespace not exported");
                    return;
                }
            }
            _exported.Add((member.Id, link.Index));
        }

        private void AddVeth(Member member, LinkState link, List<VethSpec> veths)
        {
            var peerMember = MemberOf(link.Peer!.Namespace)!;
            var peer = Snapshot(peerMember).FindLink(link.Peer.Index)!;
            if (!_exported.Contains((peerMember.Id, peer.Index)) || !_pairs.Add((member.Id, link.Index)) || !_pairs.Add((peerMember.Id, peer.Index)))
                return; // written once, when its first end comes up
            var one = End(member, link);
            var other = End(peerMember, peer);
            var (ea, eb) = First(one, other) ? (one.End, other.End) : (other.End, one.End);
            Impairment? impair = null;
            // Both ends shaped alike by netem: the pair's impair: (as vnet writes it for one).
            if (ea.Egress is { } x && eb.Egress is { } y && ea.Ingress is null && eb.Ingress is null && Same(x, y) && x.NeedsNetem)
            {
                impair = x;
                (ea, eb) = (ea with { Egress = null }, eb with { Egress = null });
            }
            veths.Add(new VethSpec(ea, eb, Nowhere) { Impair = impair });
        }

        private readonly HashSet<(NetnsId, int)> _pairs = [];

        /// <summary>Which end is <c>a</c>: the one that is not a bridge port, then the one in a named namespace, then by name.</summary>
        private bool First((VethEnd End, Member Member) a, (VethEnd End, Member Member) b)
        {
            int c = (a.End.Bridge is null ? 0 : 1).CompareTo(b.End.Bridge is null ? 0 : 1);
            if (c == 0) c = (a.End.Namespace == Topology.HostNamespace ? 1 : 0).CompareTo(b.End.Namespace == Topology.HostNamespace ? 1 : 0);
            if (c == 0) c = string.CompareOrdinal(Order(a.End.Namespace), Order(b.End.Namespace));
            if (c == 0) c = string.CompareOrdinal(a.End.Name, b.End.Name);
            return c < 0;
        }

        private (VethEnd End, Member Member) End(Member member, LinkState link)
        {
            var common = Common(member, link, LinkKinds.Veth, new VethData(), parentMtu: null);
            return (new VethEnd(member.Name, link.Name, common.Addresses, common.Mtu, common.Mac, common.Bridge, link.AdminUp, Nowhere)
            {
                Egress = common.Egress,
                Ingress = common.Ingress,
            }, member);
        }

        private void AddLink(Member member, LinkState link, LinkKind kind, List<LinkSpec> links)
        {
            var data = Normalize(kind, link.Data!);
            LinkParentSpec? parent = null;
            int? parentMtu = null;
            if (kind.Parent != ParentUse.None && kind.ObservedParentIndex(link) is { } parentIndex)
            {
                var parentNs = kind.Parent == ParentUse.Required ? link.IfLink?.Namespace : member.Id;
                var parentMember = MemberOf(parentNs);
                var parentLink = parentMember is null ? null : Snapshot(parentMember).FindLink(parentIndex);
                if (parentMember is null || parentLink is null)
                {
                    Note(member, $"link {link.Name} ({kind.Name}): its {kind.ParentKey} is in a namespace not exported");
                    if (kind.Parent == ParentUse.Required) return;
                }
                else if (parentMember.Name != Topology.HostNamespace && !_exported.Contains((parentMember.Id, parentLink.Index)))
                {
                    // A namespace vnet creates starts empty: a parent there must be declared, so exported.
                    Note(member, $"link {link.Name} ({kind.Name}): its {kind.ParentKey} {parentMember.Name}/{parentLink.Name} is not exported");
                    if (kind.Parent == ParentUse.Required) return;
                }
                else
                {
                    parent = new LinkParentSpec(parentMember.Name, parentLink.Name, Nowhere);
                    parentMtu = parentLink.Mtu;
                }
            }
            var common = Common(member, link, kind, data, parentMtu);
            // A bridge without an address of its own takes one of its ports': the copy's ports get theirs, and so the bridge.
            bool inherited = kind.IsSwitch && Snapshot(member).Links.Any(l => l.MasterIndex == link.Index && l.Mac == link.Mac);
            links.Add(new LinkSpec(link.Name, kind, member.Name, common.Addresses, common.Mtu, kind.CarriesEthernet && !inherited ? common.Mac : null,
                common.Bridge, link.AdminUp, parent, data, Nowhere)
            {
                Egress = common.Egress,
                Ingress = common.Ingress,
            });
        }

        /// <summary>The kind's data as the loader would build it from the keys <see cref="LinkKind.Describe"/> gives (observed-only
        /// attributes such as a vxlan's underlay index or a tap's attached queues dropped).</summary>
        private static LinkData Normalize(LinkKind kind, LinkData observed)
        {
            var described = kind.Describe(observed).ToDictionary(a => a.Name, a => a.Value, StringComparer.Ordinal);
            var values = new Dictionary<string, object>(StringComparer.Ordinal);
            foreach (var key in kind.Keys)
            {
                if (described.GetValueOrDefault(key.Name) is not { } text) continue;
                values[key.Name] = key.Type switch
                {
                    BooleanKey => text == "true",
                    IntegerKey => long.Parse(text, CultureInfo.InvariantCulture),
                    AddressKey => IPAddress.Parse(text),
                    _ => text,
                };
            }
            return kind.Build(values);
        }

        private sealed record CommonFields(IReadOnlyList<IfAddress> Addresses, int? Mtu, string? Mac, string? Bridge, Impairment? Egress, Impairment? Ingress);

        private CommonFields Common(Member member, LinkState link, LinkKind kind, LinkData data, int? parentMtu)
        {
            var snapshot = Snapshot(member);
            var addresses = snapshot.Addresses.Where(a => a.LinkIndex == link.Index && !a.Address.IsIPv6LinkLocal)
                .OrderBy(a => a.Family == AddressFamily.InterNetwork ? 0 : 1)
                .Select(a => new IfAddress(a.Address, a.PrefixLength)).ToList();
            string? bridge = null;
            if (link.MasterIndex != 0 && snapshot.FindLink(link.MasterIndex) is { } master)
            {
                if (LinkKinds.Of(master) == LinkKinds.Bridge && _exported.Contains((member.Id, master.Index))) bridge = master.Name;
                else Note(member, $"link {link.Name}: its master {master.Name} ({(master.Kind.Length == 0 ? "no kind" : master.Kind)}) is not exported, so it is no port here");
            }
            int? mtu = link.Mtu == ExpectedMtu(member, link, kind, data, parentMtu) ? null : link.Mtu;
            var (egress, ingress) = Shaping(member, link);
            return new CommonFields(addresses, mtu, link.Mac, bridge, egress, ingress);
        }

        /// <summary>The MTU the link gets when the topology gives none: its kind's default; a bridge's follows its smallest port.</summary>
        private int ExpectedMtu(Member member, LinkState link, LinkKind kind, LinkData data, int? parentMtu)
        {
            if (kind.DefaultMtu(data, parentMtu) is { } mtu) return mtu;
            var ports = Snapshot(member).Links.Where(l => l.MasterIndex == link.Index).Select(l => l.Mtu).ToList();
            return ports.Count == 0 ? LinkKind.EthernetMtu : ports.Min();
        }

        // ---- shaping ----------------------------------------------------------------------------------------------

        private void ReadTrafficControl()
        {
            if (kernel.TrafficControl is not { } tc) return;
            foreach (var member in _members)
            {
                _qdiscs[member.Id] = tc.ListQdiscs(member.Id);
                if (_qdiscs[member.Id].Any(q => q.IsIngress)) _redirects[member.Id] = tc.ListIngressRedirects(member.Id);
            }
            // ifbs that carry a link's ingress shaping are not links of their own in the topology.
            foreach (var member in _members)
            {
                foreach (var redirect in _redirects.GetValueOrDefault(member.Id) ?? [])
                {
                    if (Snapshot(member).FindLink(redirect.TargetIndex) is { Kind: "ifb" } ifb && Root(member, ifb.Index) is { IsDefault: false })
                        _absorbed.Add((member.Id, ifb.Index));
                }
            }
        }

        private QdiscState? Root(Member member, int index) => _qdiscs.GetValueOrDefault(member.Id)?.FirstOrDefault(q => q.LinkIndex == index && q.IsRoot);

        private (Impairment? Egress, Impairment? Ingress) Shaping(Member member, LinkState link)
        {
            var qdiscs = _qdiscs.GetValueOrDefault(member.Id);
            if (qdiscs is null) return (null, null);
            Impairment? egress = null, ingress = null;
            var root = Root(member, link.Index);
            // Qdiscs under a qdisc of the link's own (not under the kernel's default mq, handle 0): a tree the format does not write.
            var children = qdiscs.Where(q => q.LinkIndex == link.Index && !q.IsRoot && !q.IsIngress && q.Parent.Major != 0).ToList();
            if (children.Count > 0)
                Note(member, $"link {link.Name}: a qdisc tree ({root?.Kind} with {string.Join(", ", children.Select(c => c.Kind))} under it)");
            else if (root is { IsDefault: false })
            {
                egress = ExportShaping.Of(root, link.Mtu, out string? problem);
                if (problem is not null) Note(member, $"link {link.Name}: {problem}");
            }
            var ingressQdisc = qdiscs.FirstOrDefault(q => q.LinkIndex == link.Index && q.IsIngress);
            var redirects = (_redirects.GetValueOrDefault(member.Id) ?? []).Where(r => r.LinkIndex == link.Index).ToList();
            if (redirects.Count == 1 && Snapshot(member).FindLink(redirects[0].TargetIndex) is { Kind: "ifb" } ifb && Root(member, ifb.Index) is { IsDefault: false } shaped)
            {
                ingress = ExportShaping.Of(shaped, link.Mtu, out string? problem);
                if (problem is not null)
                {
                    Note(member, $"link {link.Name}: ingress through {ifb.Name}: {problem}");
                    _absorbed.Remove((member.Id, ifb.Index));
                }
                else if (ifb.Name != Kernel.Links.Kinds.IfbKind.NameFor(link.Name))
                    Note(member, $"link {ifb.Name} (ifb): written as 'ingress:' of {link.Name}; vnet names the copy's ifb {Kernel.Links.Kinds.IfbKind.NameFor(link.Name)}");
            }
            else if (redirects.Count > 0)
                Note(member, $"link {link.Name}: ingress redirects to {string.Join(", ", redirects.Select(r => r.Target))} (the format redirects to one ifb it makes)");
            else if (ingressQdisc is not null)
                Note(member, $"link {link.Name}: an {ingressQdisc.Kind} qdisc without a redirect vnet reads (its filters are not exported)");
            return (egress, ingress);
        }

        // ---- addresses, routes, sysctls --------------------------------------------------------------------------

        private List<RouteSpec> Routes(Member member)
        {
            var snapshot = Snapshot(member);
            var routes = new List<RouteSpec>();
            foreach (var route in snapshot.Routes.OrderBy(r => r.Family == AddressFamily.InterNetwork ? 0 : 1))
            {
                if (route.Protocol == RouteProtocols.Kernel) continue;
                string text = Describe(snapshot, route);
                if (route.Type != 1) // RTN_UNICAST (include/uapi/linux/rtnetlink.h)
                {
                    Note(member, $"route {text}: type {route.Type} (blackhole, unreachable, ...): the format has unicast routes only");
                    continue;
                }
                if (route.Protocol is 9 or 16) // RTPROT_RA, RTPROT_DHCP: made by a daemon, not declared
                {
                    Note(member, $"route {text}: learnt from {(route.Protocol == 9 ? "a router advertisement" : "DHCP")}");
                    continue;
                }
                var dev = route.OutputIndex == 0 ? null : snapshot.FindLink(route.OutputIndex);
                if (dev is not null && !_exported.Contains((member.Id, dev.Index)) && dev.Name != "lo")
                {
                    Note(member, $"route {text}: its device {dev.Name} is not exported");
                    continue;
                }
                if (member.Name == Topology.HostNamespace)
                {
                    Note(member, $"route {text}: the format declares no routes in host");
                    continue;
                }
                // A gateway on a connected prefix of its device needs no dev: the kernel picks the same one.
                bool needsDev = dev is not null && (route.Gateway is not { } gw || !snapshot.Addresses.Any(a => a.LinkIndex == dev.Index
                    && a.Family == gw.AddressFamily && new IPNetwork(AddressMath.Mask(a.Address, a.PrefixLength), a.PrefixLength).Contains(gw)));
                int defaultMetric = route.Family == AddressFamily.InterNetworkV6 ? 1024 : 0;
                routes.Add(new RouteSpec(new IPNetwork(route.Destination, route.PrefixLength), route.Gateway, needsDev ? dev!.Name : null,
                    route.Metric is { } m && m != defaultMetric ? m : null, Nowhere));
            }
            return routes;
        }

        private static string Describe(NamespaceSnapshot snapshot, RouteState route) =>
            (route.PrefixLength == 0 ? "default" : $"{route.Destination}/{route.PrefixLength}")
            + (route.Gateway is { } gw ? $" via {gw}" : "")
            + (route.OutputIndex != 0 && snapshot.FindLink(route.OutputIndex) is { } dev ? $" dev {dev.Name}" : "");

        private Dictionary<string, string?>? _fresh;

        private string? Fresh(string key, string fallback)
        {
            _fresh ??= kernel.ReadNewNamespaceSysctls(ExportSysctls.Keys.Select(k => k.Key).ToList())?.ToDictionary(p => p.Key, p => p.Value)
                ?? ExportSysctls.Keys.ToDictionary(k => k.Key, k => (string?)k.Value);
            return _fresh.TryGetValue(key, out var value) ? value : fallback;
        }

        private List<SysctlSpec> Sysctls(Member member)
        {
            var sysctls = new List<SysctlSpec>();
            foreach (var (key, fallback) in ExportSysctls.Keys)
            {
                if (kernel.ReadSysctl(member.Id, key) is not { } value) continue;
                if (Fresh(key, fallback) is { } fresh && ExportSysctls.Clean(fresh) == ExportSysctls.Clean(value)) continue;
                if (ImpliedByForwarding(member, key, value)) continue;
                sysctls.Add(new SysctlSpec(key, ExportSysctls.Clean(value), Nowhere));
            }
            foreach (var link in Snapshot(member).Links.Where(l => _exported.Contains((member.Id, l.Index))).OrderBy(l => l.Name, StringComparer.Ordinal))
            {
                foreach (string pattern in ExportSysctls.InterfaceKeys)
                {
                    string key = string.Format(CultureInfo.InvariantCulture, pattern, link.Name.Replace('.', '/'));
                    string defaultKey = string.Format(CultureInfo.InvariantCulture, pattern, "default");
                    if (kernel.ReadSysctl(member.Id, key) is not { } value || kernel.ReadSysctl(member.Id, defaultKey) is not { } byDefault) continue;
                    if (ExportSysctls.Clean(value) != ExportSysctls.Clean(byDefault))
                        Note(member, $"sysctl {key} = {ExportSysctls.Clean(value)} (default {ExportSysctls.Clean(byDefault)}): the format writes sysctls before links exist");
                }
            }
            return sysctls;
        }

        /// <summary>Turning IPv4 forwarding on turns accepting redirects off (inet_forward_change in net/ipv4/devinet.c): not said twice.</summary>
        private bool ImpliedByForwarding(Member member, string key, string value) =>
            key is "net.ipv4.conf.all.accept_redirects" or "net.ipv4.conf.default.accept_redirects" && ExportSysctls.Clean(value) == "0"
            && kernel.ReadSysctl(member.Id, Desired.DesiredStateBuilder.IPv4Forwarding) is { } forwarding && ExportSysctls.Clean(forwarding) == "1";

        /// <summary>vnet turns on forwarding where it writes NAT rules unless the topology says otherwise: say so when the kernel has it off.</summary>
        private void AddImpliedForwarding(List<NamespaceSpec> namespaces, List<NatRule> nat)
        {
            for (int i = 0; i < namespaces.Count; i++)
            {
                var ns = namespaces[i];
                var member = _members.First(m => m.Name == ns.Name);
                var rules = nat.Where(r => r.Namespace == ns.Name).ToList();
                var extra = new List<SysctlSpec>();
                foreach (var (key, needed) in new[] { (Desired.DesiredStateBuilder.IPv4Forwarding, rules.Any(r => !Desired.NatTranslation.IsIPv6(r))),
                    (Desired.DesiredStateBuilder.IPv6Forwarding, rules.Any(Desired.NatTranslation.IsIPv6)) })
                {
                    if (needed && !ns.Sysctls.Any(s => s.Key == key) && kernel.ReadSysctl(member.Id, key) is { } value && ExportSysctls.Clean(value) != "1")
                        extra.Add(new SysctlSpec(key, ExportSysctls.Clean(value), Nowhere));
                }
                if (extra.Count > 0) namespaces[i] = ns with { Sysctls = [.. ns.Sysctls, .. extra] };
            }
            if (_members.FirstOrDefault(m => m.Name == Topology.HostNamespace) is { } host)
            {
                if (!host.Id.IsCurrent && Snapshot(host).FindLink("lo") is { AdminUp: false })
                    Note(host, "lo is down: vnet brings up the lo of the namespace --host-netns names (and leaves the current namespace's alone)");
                foreach (var (key, fallback) in ExportSysctls.Keys)
                {
                    if (kernel.ReadSysctl(host.Id, key) is not { } value || (Fresh(key, fallback) is { } fresh && ExportSysctls.Clean(fresh) == ExportSysctls.Clean(value))
                        || ImpliedByForwarding(host, key, value))
                        continue;
                    bool implied = key == Desired.DesiredStateBuilder.IPv4Forwarding && ExportSysctls.Clean(value) == "1"
                        && nat.Any(r => r.Namespace == Topology.HostNamespace && !Desired.NatTranslation.IsIPv6(r));
                    Note(host, $"sysctl {key} = {ExportSysctls.Clean(value)}: the format declares no sysctls in host"
                        + (implied ? " (vnet sets it for the NAT rules there)" : ""));
                }
            }
        }

        // ---- NAT --------------------------------------------------------------------------------------------------

        private IEnumerable<NatRule> Nat(Member member)
        {
            IReadOnlyList<NftTableContents> tables;
            try
            {
                tables = kernel.ReadNftRuleset(member.Id);
            }
            catch (KernelException e) when (e.Errno is Errnos.EPROTONOSUPPORT or Errnos.EAFNOSUPPORT)
            {
                Note(member, $"nftables cannot be read ({e.Message})");
                return [];
            }
            var rules = ExportNat.Read(member.Name, tables, text => Note(member, text));
            foreach (var legacy in kernel.ListIptablesLegacyTables(member.Id))
                Note(member, $"legacy {(legacy.Family == "ip" ? "iptables" : "ip6tables")} table {legacy.Name}: its rules are not read (only nftables are)");
            return rules;
        }

        // ---- the file --------------------------------------------------------------------------------------------

        private IEnumerable<string> Header(IReadOnlyList<ExportNote> notes)
        {
            string from = string.Join(", ", _members.OrderBy(m => Order(m.Name), StringComparer.Ordinal).Select(m => m.Name == Topology.HostNamespace
                ? "host (" + (m.Id.IsCurrent ? "the namespace vnet ran in" : $"namespace {m.Id.Name}") + ")"
                : m.Id.Name == m.Name ? m.Name : $"{m.Name} ({m.Id.Name})"));
            yield return $"Exported by vnet export from {from}.";
            if (notes.Count == 0)
            {
                yield return "Everything found there is in this file.";
                yield break;
            }
            yield return "Not in this file, or written with a difference (the format cannot say it):";
            foreach (var note in notes) yield return $"  {note}";
        }
    }

    [GeneratedRegex("^[A-Za-z0-9_.-]{1,32}$")]
    private static partial Regex NamespaceName();

    [GeneratedRegex("^[a-z][a-z0-9-]{0,15}$")]
    private static partial Regex TopologyName();

    private static bool Same(Impairment a, Impairment b) =>
        Rendering.ImpairmentText.Describe(a) == Rendering.ImpairmentText.Describe(b);
}
