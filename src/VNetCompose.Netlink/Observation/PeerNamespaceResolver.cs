using VNetCompose.Kernel;
using VNetCompose.Netlink.Interop;
using VNetCompose.Netlink.Namespaces;
using VNetCompose.Netlink.Wire;

namespace VNetCompose.Netlink.Observation;

/// <summary>
/// Turns a veth's IFLA_LINK_NETNSID, a number private to the dumping namespace, into one of the
/// observed namespaces: asks the dumping namespace for the nsid it gives each candidate
/// (RTM_GETNSID with NETNSA_FD), trying first the namespaces holding a link that points back at the
/// veth, and caches every answer on the handles.
/// </summary>
internal static class PeerNamespaceResolver
{
    public static IReadOnlyDictionary<(NamespaceHandle Observer, int Nsid), NetnsId> Resolve(IReadOnlyList<NamespaceDump> dumps)
    {
        var resolved = new Dictionary<(NamespaceHandle, int), NetnsId>();
        foreach (var dump in dumps)
        {
            var wanted = dump.Links.Where(l => l.PeerNetnsId is not null).GroupBy(l => l.PeerNetnsId!.Value);
            foreach (var group in wanted)
            {
                foreach (var candidate in Candidates(dump, group.ToList(), dumps))
                {
                    if (NsidOf(dump.Handle, candidate.Handle) == group.Key)
                    {
                        resolved[(dump.Handle, group.Key)] = candidate.Handle.Id;
                        break;
                    }
                }
            }
        }
        return resolved;
    }

    /// <summary>Other namespaces, those with a veth pointing back at one of <paramref name="links"/> first.</summary>
    private static IEnumerable<NamespaceDump> Candidates(NamespaceDump observer, List<Rtnetlink.ParsedLink> links, IReadOnlyList<NamespaceDump> dumps) =>
        dumps.Where(d => d.Handle != observer.Handle)
            .OrderByDescending(d => links.Any(l => d.Links.Any(peer =>
                peer.PeerNetnsId is not null && peer.Link.Index == l.Link.Veth!.PeerIndex && peer.Link.Veth!.PeerIndex == l.Link.Index)));

    /// <summary>The nsid <paramref name="observer"/> gives <paramref name="target"/>; -1 when none is assigned.</summary>
    private static int NsidOf(NamespaceHandle observer, NamespaceHandle target)
    {
        if (observer.PeerIds.TryGetValue(target, out int known)) return known;
        var request = new NetlinkMessageBuilder(64);
        request.BeginMessage(Rtm.GETNSID, 0).Struct(new RtGenMsg { Family = AddressFamilies.AF_UNSPEC })
            .U32(Netnsa.FD, (uint)target.RawFd).EndMessage();
        int nsid = Netnsa.NSID_NOT_ASSIGNED;
        observer.Socket(NetlinkProtocol.Route).Execute(request,
            $"asking {observer.Description} for the id of {target.Description}",
            message =>
            {
                foreach (var a in message.Attributes<RtGenMsg>())
                {
                    if (a.Type == Netnsa.NSID) nsid = a.S32();
                }
            });
        if (nsid != Netnsa.NSID_NOT_ASSIGNED) observer.PeerIds[target] = nsid; // an unassigned id may be assigned later
        return nsid;
    }
}
