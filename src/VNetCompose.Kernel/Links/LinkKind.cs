using System.Net;

namespace VNetCompose.Kernel.Links;

/// <summary>How a link kind relates to another link (its parent, lower device or underlay).</summary>
public enum ParentUse
{
    /// <summary>The kind stands alone (bridge, dummy, tap).</summary>
    None,
    /// <summary>The kind is created on top of another link (macvlan, vlan, ipvlan, macvtap).</summary>
    Required,
    /// <summary>The kind may name a link (a vxlan's underlay <c>dev</c>).</summary>
    Optional,
}

/// <summary>Where a link's carrier (operational state) comes from, as the kernel computes it.</summary>
public enum CarrierSource
{
    /// <summary>A veth is up when its peer is.</summary>
    Peer,
    /// <summary>A bridge is up when one of its ports is.</summary>
    Ports,
    /// <summary>A link on a parent follows the parent.</summary>
    Parent,
    /// <summary>The kernel reports UNKNOWN while the link is up (vxlan, dummy, ifb).</summary>
    Unknown,
    /// <summary>A tun/tap has a carrier only while a program has it open.</summary>
    Reader,
}

/// <summary>
/// One link kind: everything vnet knows about it in one place (as containerlab's <c>links/link_&lt;kind&gt;.go</c>
/// or vishvananda/netlink's one struct per kind): its topology keys and checks, its attributes for plans and
/// comparison with which of them the kernel changes in place, its IFLA_INFO_DATA encoding and decoding, and
/// the facts the in-memory kernel models (default MTU, carrier, parent rules). Kinds are singletons listed in
/// <see cref="LinkKinds"/>; the driver, the planner, the loader and the in-memory kernel know kinds only
/// through this class.
/// </summary>
public abstract class LinkKind
{
    /// <summary>The name the topology writes after <c>kind:</c> (<c>macvlan</c>, <c>tap</c>).</summary>
    public abstract string Name { get; }

    /// <summary>IFLA_INFO_KIND as the kernel reports it (<c>tun</c> for both tun and tap).</summary>
    public virtual string KernelKind => Name;

    /// <summary>What <c>ip -d link</c> calls the kernel module that provides the kind, for error messages.</summary>
    public virtual string KernelModule => Name;

    /// <summary>Whether and how the kind names another link.</summary>
    public virtual ParentUse Parent => ParentUse.None;

    /// <summary>The topology key naming the parent (<c>parent</c>; a vxlan's underlay is <c>dev</c>).</summary>
    public virtual string ParentKey => "parent";

    /// <summary>The parent may live in another namespace (<c>parent: host/eth0</c>); the link is then created
    /// in the parent's namespace with IFLA_NET_NS_FD naming its own, as <c>ip link add link eth0 netns c1</c> does.</summary>
    public virtual bool ParentMayBeElsewhere => Parent == ParentUse.Required;

    /// <summary>The link carries Ethernet frames: it has a MAC address and may be a bridge port (a tun does not).</summary>
    public virtual bool CarriesEthernet => true;

    /// <summary>Other links may be enslaved to it (<c>bridge:</c> may name it).</summary>
    public virtual bool IsSwitch => false;

    /// <summary>Created with RTM_NEWLINK and <see cref="EncodeData"/>; false for kinds the driver creates
    /// another way (a veth pair carries its peer, a tun/tap is made through /dev/net/tun).</summary>
    public virtual bool CreatedByNetlink => true;

    /// <summary>A new parent is set in place (a vxlan's underlay); otherwise changing the parent recreates the link.</summary>
    public virtual bool ParentChangesInPlace => false;

    /// <summary>The kind follows its parent's MTU down when the parent's shrinks (macvlan, vlan, ipvlan).</summary>
    public virtual bool FollowsParentMtu => Parent == ParentUse.Required;

    /// <summary>Where the kernel takes the link's carrier from.</summary>
    public virtual CarrierSource Carrier => CarrierSource.Unknown;

    /// <summary>Whether a plan must ask the kernel (<see cref="IKernel.ProbeLinkSupport"/>) if it can create such a
    /// link: kinds the kernel may lack do; veth and tun/tap, which every kernel vnet runs on has, do not.</summary>
    public virtual bool NeedsProbe(LinkData data) => true;

    /// <summary>Whether the probe must create a link with these very attributes (in a throwaway namespace): for an
    /// attribute the kernel may refuse (a bridge's vlan_filtering). Otherwise asking for the kind is enough.</summary>
    public virtual bool ProbeByCreating(LinkData data) => false;

    /// <summary>How a plan refuses such a link when the kernel lacks the kind (or the attribute): the topology key to
    /// point at and the message, with the kernel's own words.</summary>
    public virtual (string Key, string Message) Unsupported(LinkData data, string kernelReason) =>
        ("kind", $"this kernel has no '{Name}' link type (rtnetlink: {kernelReason})");

    /// <summary>The kind's own topology keys (beyond namespace, name, addresses, mtu, mac, bridge, up and the parent key).</summary>
    public virtual IReadOnlyList<KindKey> Keys => [];

    /// <summary>The kind's attributes from the values of its keys (absent keys are missing from the dictionary).</summary>
    public abstract LinkData Build(IReadOnlyDictionary<string, object> values);

    /// <summary>Rules between the kind's own keys (a vxlan's remote and group exclude each other); key and message.</summary>
    public virtual IEnumerable<KindProblem> Check(LinkData data) => [];

    /// <summary>The attributes of <paramref name="data"/> as plans show and compare them, each saying whether the
    /// kernel can change it in place (<c>ip link set ... type KIND ...</c>) or the link must be recreated.</summary>
    public virtual IEnumerable<KindAttribute> Describe(LinkData data) => [];

    /// <summary>
    /// What differs between the desired and the observed attributes, each with whether the kernel changes it in
    /// place. By default every attribute <see cref="Describe"/> gives the desired data is compared.
    /// </summary>
    public virtual IEnumerable<KindDifference> Compare(LinkData desired, LinkData observed)
    {
        var have = Describe(observed).ToDictionary(a => a.Name, a => a.Value, StringComparer.Ordinal);
        foreach (var want in Describe(desired))
        {
            string? current = have.GetValueOrDefault(want.Name);
            if (current != want.Value) yield return new KindDifference(want.Name, current, want.Value, want.InPlace);
        }
    }

    /// <summary>
    /// The MTU a fresh link of the kind gets when the topology gives none (1500, ETH_DATA_LEN, for most; the
    /// parent's for links on a parent; 50 less than the underlay's for a vxlan). Null when the kernel derives
    /// it on its own and vnet leaves it alone (a bridge follows its smallest port).
    /// </summary>
    public virtual int? DefaultMtu(LinkData data, int? parentMtu) => EthernetMtu;

    /// <summary>ETH_DATA_LEN (include/uapi/linux/if_ether.h).</summary>
    public const int EthernetMtu = 1500;

    /// <summary>Writes IFLA_INFO_DATA for creating the link; <paramref name="parentIndex"/> is the resolved parent
    /// for kinds that carry it in their data (a vxlan's IFLA_VXLAN_LINK).</summary>
    public virtual void EncodeData(LinkData data, IInfoDataWriter writer, int? parentIndex) { }

    /// <summary>Writes IFLA_INFO_DATA for an in-place change of the attributes named in <paramref name="changed"/>
    /// (only those: some kinds refuse even an unchanged value of an attribute they cannot change).</summary>
    public virtual void EncodeChange(LinkData data, IReadOnlySet<string> changed, IInfoDataWriter writer, int? parentIndex) =>
        EncodeData(data, writer, parentIndex);

    /// <summary>The kind's attributes from IFLA_INFO_DATA of a dump.</summary>
    public abstract LinkData Decode(InfoData data);

    /// <summary>The ifindex of the link's parent as observed: IFLA_LINK for most kinds.</summary>
    public virtual int? ObservedParentIndex(LinkState link) => link.IfLink is { Index: > 0 } l ? l.Index : null;

    /// <summary>The kind's data as the kernel reports it once the link exists on <paramref name="parentIndex"/> (a vxlan
    /// reports its underlay's ifindex in its data); the in-memory kernel keeps what it is told, adjusted by this.</summary>
    public virtual LinkData Observed(LinkData data, int? parentIndex) => data;

    /// <summary>The character device a program opens to use the link (a macvtap's <c>/dev/tapN</c>), or null for none.
    /// Its owner and group are the link's (<see cref="IDeviceOwnership"/>): the driver sets and reads them on the node.</summary>
    public virtual string? DeviceNode(int ifindex) => null;

    /// <summary>The kind of an observed link, when it is this one (tun and tap share IFLA_INFO_KIND).</summary>
    public virtual bool Matches(LinkState link) => link.Kind == KernelKind;

    /// <inheritdoc/>
    public override string ToString() => Name;
}

/// <summary>A key of a kind's topology entry.</summary>
/// <param name="Name">The YAML key (<c>vni</c>).</param>
/// <param name="Type">How its value is read.</param>
/// <param name="Description">One sentence for the schema and the README.</param>
/// <param name="Required">The topology must give it.</param>
public sealed record KindKey(string Name, KeyType Type, string Description, bool Required = false);

/// <summary>How a kind key's value is read: a YAML boolean, an integer in a range, or text parsed by the kind.</summary>
public abstract record KeyType
{
    /// <summary>true/false.</summary>
    public static KeyType Boolean { get; } = new BooleanKey();

    /// <summary>An integer from <paramref name="min"/> to <paramref name="max"/>.</summary>
    public static KeyType Integer(long min, long max) => new IntegerKey(min, max);

    /// <summary>One of the given words (the value is the word).</summary>
    public static KeyType OneOf(params string[] words) => new WordKey(words);

    /// <summary>An IPv4 or IPv6 host address (the value is an <see cref="IPAddress"/>).</summary>
    public static KeyType Address { get; } = new AddressKey();
}

/// <summary>A YAML boolean; the value is a <see cref="bool"/>.</summary>
public sealed record BooleanKey : KeyType;

/// <summary>An integer in [Min, Max]; the value is a <see cref="long"/>.</summary>
public sealed record IntegerKey(long Min, long Max) : KeyType;

/// <summary>One of <see cref="Words"/>; the value is the <see cref="string"/>.</summary>
public sealed record WordKey(IReadOnlyList<string> Words) : KeyType;

/// <summary>A host address without prefix; the value is an <see cref="IPAddress"/>.</summary>
public sealed record AddressKey : KeyType;

/// <summary>A rule of a kind that its values break: the key to point at and why.</summary>
public sealed record KindProblem(string Key, string Message);

/// <summary>One attribute of a link's kind data, as plans show it (<c>vni = 42</c>).</summary>
/// <param name="Name">The topology key.</param>
/// <param name="Value">Its value as text; null when unset.</param>
/// <param name="InPlace">The kernel changes it without recreating the link.</param>
public sealed record KindAttribute(string Name, string? Value, bool InPlace);

/// <summary>An attribute whose observed value differs from the desired one.</summary>
public sealed record KindDifference(string Name, string? Before, string? After, bool InPlace);
