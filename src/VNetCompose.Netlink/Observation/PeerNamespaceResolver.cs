using VNetCompose.Kernel;
using VNetCompose.Netlink.Interop;
using VNetCompose.Netlink.Namespaces;
using VNetCompose.Netlink.Rtnetlink;
using VNetCompose.Netlink.Wire;

namespace VNetCompose.Netlink.Observation;

/// <summary>
/// Turns a link's IFLA_LINK_NETNSID (a veth's peer, a macvlan's parent elsewhere), a number private to the
/// dumping namespace, into one of the observed namespaces: asks the dumping namespace for the nsid it gives each candidate
/// (RTM_GETNSID with NETNSA_FD), trying first the namespaces holding a veth that points back at the
/// veth (found through an index, so the search stays linear in the number of links), and caches every
/// answer on the handles. The questions one namespace is asked go in one datagram.
/// <para>Once D's nsid k is known to mean E, each veth of D with nsid k has its peer in E at its
/// IFLA_LINK index; that peer's own nsid then means D, without asking E. Namespaces with the most veths
/// are resolved first, so in a lab of hosts around a switch only the switch is asked.</para>
/// </summary>
internal static class PeerNamespaceResolver
{
    /// <summary>The namespace each (observer, nsid) of the veths in <paramref name="dumps"/> means.</summary>
    /// <param name="dumps">The observed namespaces.</param>
    /// <param name="targetsPerQuestion">At most this many namespaces named (by descriptor) in one datagram: the
    /// descriptors must all be open at once, within the driver's budget.</param>
    /// <param name="protect">Keeps the descriptors of the handles used from now on open until disposed (one question's).</param>
    public static IReadOnlyDictionary<(NamespaceHandle Observer, int Nsid), NetnsId> Resolve(IReadOnlyList<NamespaceDump> dumps,
        int targetsPerQuestion = int.MaxValue, Func<IDisposable>? protect = null)
    {
        var pointingBack = IndexVethEnds(dumps);
        var linksByIndex = dumps.ToDictionary(d => d.Handle, d => d.Links.DistinctBy(l => l.Link.Index).ToDictionary(l => l.Link.Index));
        var resolved = new Dictionary<(NamespaceHandle, int), NetnsId>();
        foreach (var dump in dumps.OrderByDescending(d => d.Links.Count(l => l.LinkNetnsId is not null)))
        {
            var wanted = dump.Links.Where(l => l.LinkNetnsId is not null && !resolved.ContainsKey((dump.Handle, l.LinkNetnsId.Value)))
                .GroupBy(l => l.LinkNetnsId!.Value).ToList();
            if (wanted.Count == 0) continue;

            // Likely answers first: for each nsid, the namespaces holding the other end of one of its veths.
            var likely = wanted.ToDictionary(g => g.Key, g => g
                .SelectMany(l => pointingBack.GetValueOrDefault((l.Link.IfLink!.Index, l.Link.Index)) ?? [])
                .Where(d => d.Handle != dump.Handle).Distinct().ToList());
            AskNsids(dump.Handle, likely.Values.SelectMany(c => c), targetsPerQuestion, protect);
            var unresolved = new List<int>();
            foreach (var group in wanted)
            {
                if (likely[group.Key].FirstOrDefault(c => dump.Handle.PeerIds.TryGetValue(c.Handle, out int id) && id == group.Key) is { } found)
                    Settle(dump, group, found);
                else
                    unresolved.Add(group.Key);
            }
            if (unresolved.Count == 0) continue;

            // A peer whose end does not point back (or is not observed): every other namespace is a candidate.
            var others = dumps.Where(d => d.Handle != dump.Handle).ToList();
            AskNsids(dump.Handle, others, targetsPerQuestion, protect);
            foreach (var group in wanted.Where(g => unresolved.Contains(g.Key)))
            {
                if (others.FirstOrDefault(c => dump.Handle.PeerIds.TryGetValue(c.Handle, out int id) && id == group.Key) is { } found)
                    Settle(dump, group, found);
            }
        }
        return resolved;

        // D's nsid means E; the far ends of D's veths with that nsid name D by their own nsid.
        void Settle(NamespaceDump d, IEnumerable<ParsedLink> veths, NamespaceDump e)
        {
            resolved[(d.Handle, veths.First().LinkNetnsId!.Value)] = e.Handle.Id;
            foreach (var veth in veths)
            {
                if (linksByIndex[e.Handle].GetValueOrDefault(veth.Link.IfLink!.Index) is { LinkNetnsId: { } back } peer
                    && peer.Link.IfLink!.Index == veth.Link.Index)
                {
                    resolved.TryAdd((e.Handle, back), d.Handle.Id);
                }
            }
        }
    }

    /// <summary>Every observed veth end that knows its peer's namespace, by (its index, its peer's index).</summary>
    private static Dictionary<(int Index, int PeerIndex), List<NamespaceDump>> IndexVethEnds(IReadOnlyList<NamespaceDump> dumps)
    {
        var index = new Dictionary<(int, int), List<NamespaceDump>>();
        foreach (var dump in dumps)
        {
            foreach (var link in dump.Links.Where(l => l.LinkNetnsId is not null))
            {
                var key = (link.Link.Index, link.Link.IfLink!.Index);
                if (!index.TryGetValue(key, out var holders)) index[key] = holders = [];
                holders.Add(dump);
            }
        }
        return index;
    }

    /// <summary>
    /// Asks <paramref name="observer"/>, in one datagram per <paramref name="targetsPerQuestion"/> targets, for the
    /// nsid it gives each target it has no cached answer for, and caches the assigned ones (an unassigned id may be
    /// assigned later).
    /// </summary>
    private static void AskNsids(NamespaceHandle observer, IEnumerable<NamespaceDump> targets, int targetsPerQuestion, Func<IDisposable>? protect)
    {
        var all = targets.Select(t => t.Handle).Where(t => !observer.PeerIds.ContainsKey(t)).Distinct().ToList();
        foreach (var part in all.Chunk(targetsPerQuestion))
        {
            using var asking = protect?.Invoke();
            AskNsids(observer, part);
        }
    }

    private static void AskNsids(NamespaceHandle observer, IReadOnlyList<NamespaceHandle> asked)
    {
        if (asked.Count == 0) return;
        // The observer's socket first, then the targets' descriptors: each use marks its handle recent, so none of
        // these is closed to make room for another before the question is sent.
        var socket = observer.Socket(NetlinkProtocol.Route);
        var request = new NetlinkMessageBuilder(64 * asked.Count);
        foreach (var target in asked)
        {
            request.BeginMessage(Rtm.GETNSID, 0).Struct(new RtGenMsg { Family = AddressFamilies.AF_UNSPEC })
                .U32(Netnsa.FD, (uint)target.RawFd).EndMessage();
        }
        string operation = $"asking {observer.Description} for the ids of {asked.Count} namespaces";
        var answers = new List<(uint Sequence, int Nsid)>(asked.Count);
        socket.Execute(request, operation, message =>
        {
            int nsid = Netnsa.NSID_NOT_ASSIGNED;
            foreach (var a in message.Attributes<RtGenMsg>())
            {
                if (a.Type == Netnsa.NSID) nsid = a.S32();
            }
            answers.Add((message.Sequence, nsid));
        });
        // The kernel answers the messages of a datagram in order, each with its question's sequence number.
        bool inOrder = answers.Count == asked.Count
            && answers.Select((a, i) => unchecked(a.Sequence - answers[0].Sequence) == (uint)i).All(x => x);
        if (!inOrder)
        {
            throw new KernelException(Errnos.EIO, operation, $"the kernel's {answers.Count} answers do not match the {asked.Count} questions");
        }
        for (int i = 0; i < asked.Count; i++)
        {
            if (answers[i].Nsid != Netnsa.NSID_NOT_ASSIGNED) observer.PeerIds[asked[i]] = answers[i].Nsid;
        }
    }
}
