using System.Net;
using System.Net.Sockets;

namespace VNetCompose.Model.Loading;

/// <summary>
/// Addresses that cannot all work: the same address twice on one interface or IPv6 below the IPv6 minimum
/// MTU (errors: the kernel refuses them), and likely mistakes (warnings): a network or broadcast address,
/// the same address on two interfaces of one namespace, overlapping subnets on two interfaces of one
/// namespace (such as both ends of a veth), the same address twice on one layer-2 segment.
/// </summary>
internal sealed class AddressCheck : ITopologyCheck
{
    /// <summary>RFC 8200 section 5; the kernel drops IPv6 from a link below it (addrconf_notify).</summary>
    private const int Ipv6MinimumMtu = 1280;

    public void Check(TopologyIndex index, DiagnosticBag diagnostics)
    {
        InterfaceDraft[] links = index.Named.ToArray();
        foreach (InterfaceDraft link in links)
            CheckOneInterface(link, diagnostics);
        foreach (IGrouping<string, InterfaceDraft> ns in links.GroupBy(l => l.Namespace!))
            CheckOneNamespace(ns.ToArray(), diagnostics);
        CheckSegments(index, links, diagnostics);
    }

    private static void CheckOneInterface(InterfaceDraft link, DiagnosticBag diagnostics)
    {
        var seen = new Dictionary<IPAddress, Located<IfAddress>>();
        foreach (Located<IfAddress> address in link.Addresses)
        {
            IfAddress value = address.Value;
            if (!seen.TryAdd(value.Address, address))
            {
                diagnostics.Error(address.At, address.Path,
                    $"{value.Address} is already assigned to this interface (line {seen[value.Address].At.Line})");
                continue;
            }
            if (value.Address.AddressFamily == AddressFamily.InterNetworkV6 && link.Mtu is { } mtu && mtu.Value < Ipv6MinimumMtu)
            {
                diagnostics.Error(address.At, address.Path,
                    $"IPv6 needs an MTU of at least {Ipv6MinimumMtu}, but this interface's mtu is {mtu.Value}");
            }
            if (SpecialIpv4Role(value) is { } role)
                diagnostics.Warning(address.At, address.Path, $"{value} is the {role} address of {AddressSyntax.NetworkOf(value)}; hosts cannot use it");
        }
    }

    private static string? SpecialIpv4Role(IfAddress address)
    {
        // /31 (RFC 3021) and /32 have no network or broadcast address.
        if (address.Address.AddressFamily != AddressFamily.InterNetwork || address.PrefixLength > 30)
            return null;
        IPAddress network = AddressSyntax.NetworkOf(address).BaseAddress;
        if (address.Address.Equals(network))
            return "network";
        byte[] bytes = address.Address.GetAddressBytes(), hostBits = network.GetAddressBytes();
        for (int bit = address.PrefixLength; bit < 32; bit++)
            hostBits[bit / 8] |= (byte)(0x80 >> (bit % 8));
        return bytes.AsSpan().SequenceEqual(hostBits) ? "broadcast" : null;
    }

    /// <summary>
    /// Between the interfaces of one namespace, in O(n log n): the same address on two of them (one warning per
    /// later occurrence, naming the first), and overlapping subnets, one warning per group of overlapping subnets
    /// (prefixes are nested or disjoint, so sorted by start a group is a run whose starts lie inside its first,
    /// widest, prefix), at its first address on another interface than the group's first address.
    /// </summary>
    private static void CheckOneNamespace(InterfaceDraft[] links, DiagnosticBag diagnostics)
    {
        var members = new List<Member>();
        var firstHolder = new Dictionary<IPAddress, Member>();
        foreach (InterfaceDraft link in links)
        {
            foreach (Located<IfAddress> address in link.Addresses)
            {
                var member = new Member(address, link, AddressSyntax.NetworkOf(address.Value), members.Count);
                members.Add(member);
                if (!firstHolder.TryAdd(address.Value.Address, member) && firstHolder[address.Value.Address] is var first
                    && !ReferenceEquals(first.Link, link))
                {
                    diagnostics.Warning(address.At, address.Path,
                        $"{address.Value.Address} is also assigned to {first.Link.NameAndReference} in namespace '{link.Namespace}'");
                }
            }
        }
        members.Sort((x, y) => x.Family != y.Family ? x.Family.CompareTo(y.Family)
            : x.Start != y.Start ? x.Start.CompareTo(y.Start)
            : x.Network.PrefixLength != y.Network.PrefixLength ? x.Network.PrefixLength.CompareTo(y.Network.PrefixLength)
            : x.Order.CompareTo(y.Order));
        for (int start = 0; start < members.Count;)
        {
            int end = start + 1;
            while (end < members.Count && members[end].Family == members[start].Family && members[end].Start <= members[start].Last) end++;
            if (end - start > 1) WarnOverlap(members.GetRange(start, end - start), diagnostics);
            start = end;
        }
    }

    private static void WarnOverlap(List<Member> group, DiagnosticBag diagnostics)
    {
        group.Sort((x, y) => x.Order.CompareTo(y.Order));
        Member first = group[0];
        // The same address elsewhere was reported above; an interface overlapping itself is no conflict.
        Member? later = group.FirstOrDefault(m => !ReferenceEquals(m.Link, first.Link) && !m.Address.Value.Address.Equals(first.Address.Value.Address));
        if (later is null) return;
        int others = group.Select(m => m.Link).Distinct().Count() - 2;
        diagnostics.Warning(later.Address.At, later.Address.Path,
            $"{later.Address.Value} overlaps {first.Address.Value} on {first.Link.NameAndReference} in the same namespace"
            + (others > 0 ? $", as do subnets of {others} more interface{(others == 1 ? "" : "s")} there" : "")
            + "; their routes compete and traffic may leave through either interface");
    }

    /// <summary>An address of an interface, with its subnet as a range of numbers (IPv4 and IPv6 apart).</summary>
    private sealed class Member(Located<IfAddress> address, InterfaceDraft link, IPNetwork network, int order)
    {
        public Located<IfAddress> Address { get; } = address;
        public InterfaceDraft Link { get; } = link;
        public IPNetwork Network { get; } = network;
        public int Order { get; } = order;
        public AddressFamily Family { get; } = network.BaseAddress.AddressFamily;
        public UInt128 Start { get; } = Number(network.BaseAddress);
        public UInt128 Last { get; } = Number(network.BaseAddress) | HostMask(network);

        private static UInt128 Number(IPAddress address)
        {
            UInt128 value = 0;
            foreach (byte b in address.GetAddressBytes()) value = (value << 8) | b;
            return value;
        }

        private static UInt128 HostMask(IPNetwork network)
        {
            int bits = (network.BaseAddress.AddressFamily == AddressFamily.InterNetwork ? 32 : 128) - network.PrefixLength;
            return bits == 0 ? 0 : bits == 128 ? UInt128.MaxValue : (UInt128.One << bits) - 1;
        }
    }

    /// <summary>
    /// The same address on two namespaces joined at layer 2 (a veth pair, bridge ports and their bridge):
    /// ARP answers from both and traffic goes to whichever answers first.
    /// </summary>
    private static void CheckSegments(TopologyIndex index, InterfaceDraft[] links, DiagnosticBag diagnostics)
    {
        var segments = new Segments();
        foreach (VethDraft veth in index.Draft.Veths)
            segments.Join(veth.A, veth.B);
        foreach (InterfaceDraft port in links)
        {
            if (index.BridgeOf(port) is { } bridge)
                segments.Join(port, bridge);
        }
        var owners = new Dictionary<(InterfaceDraft Segment, IPAddress Address), InterfaceDraft>();
        foreach (InterfaceDraft link in links)
        {
            foreach (Located<IfAddress> address in link.Addresses)
            {
                var key = (segments.Find(link), address.Value.Address);
                if (!owners.TryAdd(key, link) && owners[key] is var first && first.Namespace != link.Namespace)
                {
                    diagnostics.Warning(address.At, address.Path,
                        $"{address.Value.Address} is also assigned to {first.NameAndReference} in namespace '{first.Namespace}' on the same layer-2 segment; the two will conflict");
                }
            }
        }
    }

    /// <summary>Union-find over interfaces: which ones share a layer-2 segment.</summary>
    private sealed class Segments
    {
        private readonly Dictionary<InterfaceDraft, InterfaceDraft> parent = new(ReferenceEqualityComparer.Instance);

        public InterfaceDraft Find(InterfaceDraft link)
        {
            while (parent.TryGetValue(link, out InterfaceDraft? up) && !ReferenceEquals(up, link))
                link = up;
            return link;
        }

        public void Join(InterfaceDraft a, InterfaceDraft b)
        {
            InterfaceDraft rootA = Find(a), rootB = Find(b);
            if (!ReferenceEquals(rootA, rootB))
                parent[rootA] = rootB;
        }
    }
}
