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

    private static void CheckOneNamespace(InterfaceDraft[] links, DiagnosticBag diagnostics)
    {
        for (int later = 0; later < links.Length; later++)
        {
            foreach (Located<IfAddress> address in links[later].Addresses)
            {
                for (int earlier = 0; earlier < later; earlier++)
                {
                    if (Compare(address, links[earlier]) is { } message)
                        diagnostics.Warning(address.At, address.Path, message);
                }
            }
        }
    }

    /// <summary>What is wrong between <paramref name="address"/> and the addresses of another interface in its namespace.</summary>
    private static string? Compare(Located<IfAddress> address, InterfaceDraft other)
    {
        IfAddress value = address.Value;
        string otherName = other.NameAndReference;
        foreach (Located<IfAddress> candidate in other.Addresses)
        {
            if (candidate.Value.Address.Equals(value.Address))
                return $"{value.Address} is also assigned to {otherName} in namespace '{other.Namespace}'";
        }
        foreach (Located<IfAddress> candidate in other.Addresses)
        {
            if (AddressSyntax.Overlap(AddressSyntax.NetworkOf(value), AddressSyntax.NetworkOf(candidate.Value)))
            {
                return $"{value} overlaps {candidate.Value} on {otherName} in the same namespace; "
                       + "their routes compete and traffic may leave through either interface";
            }
        }
        return null;
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
