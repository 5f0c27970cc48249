using VNetCompose.Core.State;
using VNetCompose.Kernel;

namespace VNetCompose.Core.Observation;

/// <summary>How an observed named namespace relates to an instance, from the kernel's evidence first, the state file second.</summary>
public enum NamespaceClaim
{
    /// <summary>Not the instance's: never deleted, never marked.</summary>
    None,

    /// <summary>Its <c>lo</c> carries the instance's marker and its inode is the recorded one (or none is recorded yet).</summary>
    Marked,

    /// <summary>The state file or a marker says vnet created it, but the kernel disagrees: it carries the marker with
    /// another inode than the recorded one, or no marker at all. Someone deleted it and created it again, removed the
    /// marker, or edited the state file: vnet uses it as it is and never deletes it.</summary>
    NotTheOneCreated,
}

/// <summary>
/// Whose a named namespace is. vnet marks a namespace it creates in the namespace itself (the ifalias of its <c>lo</c>,
/// <see cref="Ownership.NamespaceMarker"/>) and records its identity (the nsfs inode) in the state file once it exists.
/// Only the marker makes a namespace vnet's, and only with the recorded inode (when one is recorded): the state file
/// alone never does, whatever it says, so a hand-edited one cannot make vnet delete a namespace.
/// </summary>
public static class NamespaceOwnership
{
    /// <summary>What the kernel and the state file say about <paramref name="name"/> for <paramref name="instance"/>.</summary>
    /// <param name="instance">The instance asking.</param>
    /// <param name="name">The namespace's name.</param>
    /// <param name="snapshot">The namespace as observed (its <c>lo</c> carries the marker), null when it is not observed.</param>
    /// <param name="inode">Its inode now, null when unknown.</param>
    /// <param name="previous">The instance's state file, null when there is none.</param>
    public static NamespaceClaim Claim(string instance, string name, NamespaceSnapshot? snapshot, ulong? inode, InstanceRecord? previous)
    {
        ArgumentNullException.ThrowIfNull(instance);
        if (snapshot is null) return NamespaceClaim.None;
        ulong? recorded = previous?.Holdings.NamespaceInodes.TryGetValue(name, out ulong r) == true ? r : null;
        bool sameInode = recorded is not null && inode == recorded;
        string? alias = snapshot.FindLink("lo")?.Alias;
        if (alias == Ownership.NamespaceMarker(instance)) return recorded is null || sameInode ? NamespaceClaim.Marked : NamespaceClaim.NotTheOneCreated;
        // Another instance's marker (vnet left the namespace to that instance), or an alias someone set: not the instance's.
        if (!string.IsNullOrEmpty(alias)) return NamespaceClaim.None;
        bool recordedCreated = previous?.Holdings.CreatedNamespaces.Contains(name, StringComparer.Ordinal) == true;
        return recordedCreated ? NamespaceClaim.NotTheOneCreated : NamespaceClaim.None;
    }

    /// <summary>The claim makes the namespace the instance's.</summary>
    public static bool IsOwned(NamespaceClaim claim) => claim == NamespaceClaim.Marked;
}

/// <summary>
/// What a namespace of the instance holds besides the instance's own objects: a namespace is deleted only when it
/// holds nothing else (deleting it would take every other object with it).
/// </summary>
/// <param name="ForeignLinks">Links neither the instance's nor another vnet instance's (<c>lo</c> aside).</param>
/// <param name="ForeignTables">nftables tables neither the instance's nor another vnet instance's.</param>
/// <param name="OtherInstances">Other vnet instances with links or tables in it, sorted.</param>
public sealed record NamespaceContents(IReadOnlyList<string> ForeignLinks, IReadOnlyList<string> ForeignTables, IReadOnlyList<string> OtherInstances)
{
    /// <summary>Nothing but the instance's own objects.</summary>
    public bool OnlyOurs => ForeignLinks.Count == 0 && ForeignTables.Count == 0 && OtherInstances.Count == 0;

    /// <summary>Besides the instance's objects, only other vnet instances' (the namespace can be left to one of them).</summary>
    public bool OnlyVnet => ForeignLinks.Count == 0 && ForeignTables.Count == 0;

    /// <param name="instance">The instance asking.</param>
    /// <param name="snapshot">The namespace as observed.</param>
    /// <param name="tables">Its nftables tables, when read (null: not read, none counted).</param>
    /// <param name="ovs">Open vSwitch's rows, when read: the devices of internal ports (a tap with the userspace
    /// datapath, an openvswitch device with the kernel's) are whoever owns the port's interface row.</param>
    public static NamespaceContents Of(string instance, NamespaceSnapshot snapshot, IReadOnlyList<NftTableInfo>? tables,
        Kernel.Ovs.OvsSwitchState? ovs = null)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        string marker = Ownership.LinkMarker(instance);
        uint group = Ownership.LinkGroup(instance);
        var internalPorts = (ovs?.Bridges ?? []).SelectMany(b => b.Ports).SelectMany(p => p.Interfaces)
            .Where(i => i.Type == "internal").DistinctBy(i => i.Name).ToDictionary(i => i.Name, i => i.Owner, StringComparer.Ordinal);
        var foreignLinks = new List<string>();
        var others = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var link in snapshot.Links)
        {
            if (link.Name == "lo" || link.Alias == marker || (string.IsNullOrEmpty(link.Alias) && link.Group == group)) continue;
            string? owner = Ownership.InstanceOfLinkMarker(link.Alias)
                ?? (link.Kind is "openvswitch" or "tun" && internalPorts.TryGetValue(link.Name, out var portOwner) ? portOwner : null);
            if (owner == instance) continue;
            if (owner is not null) others.Add(owner);
            else foreignLinks.Add(link.Name);
        }
        var foreignTables = new List<string>();
        string ours = Ownership.NatTableName(instance);
        foreach (var table in tables ?? [])
        {
            if (table.Family == "inet" && table.Name == ours && table.OwnedByVnet) continue;
            if (table.Family == "inet" && table.OwnedByVnet && table.Name.StartsWith("vnet-", StringComparison.Ordinal)
                && Model.NameRules.InstanceNameError(table.Name[5..]) is null)
            {
                others.Add(table.Name[5..]);
            }
            else
            {
                foreignTables.Add($"{table.Family} {table.Name}");
            }
        }
        return new NamespaceContents(foreignLinks, foreignTables, others.ToList());
    }

    /// <summary>What else it holds, in words: "links eth9, br1; table ip filter; objects of vnet instance b".</summary>
    public string Describe()
    {
        var parts = new List<string>();
        if (ForeignLinks.Count > 0) parts.Add((ForeignLinks.Count == 1 ? "link " : "links ") + string.Join(", ", ForeignLinks));
        if (ForeignTables.Count > 0) parts.Add((ForeignTables.Count == 1 ? "nftables table " : "nftables tables ") + string.Join(", ", ForeignTables));
        if (OtherInstances.Count > 0) parts.Add((OtherInstances.Count == 1 ? "objects of vnet instance " : "objects of vnet instances ") + string.Join(", ", OtherInstances));
        return string.Join("; ", parts);
    }
}
