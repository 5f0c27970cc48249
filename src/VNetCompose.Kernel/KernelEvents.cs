using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace VNetCompose.Kernel;

/// <summary>
/// A driver capability: changes to links, addresses, routes, qdiscs and filters, the sysctls the kernel
/// announces (netconf), nftables objects and named namespaces, reported as they happen (rtnetlink and
/// nfnetlink multicast groups, inotify on /run/netns for the netlink driver; the in-memory kernel raises
/// the same events). A driver that cannot report events simply does not implement it.
/// </summary>
public interface IKernelEvents
{
    /// <summary>
    /// Subscribes now, before returning: every change made in a namespace of <paramref name="namespaces"/>
    /// that exists after this call returns is reported, so a caller observes after subscribing and misses
    /// nothing. A namespace of the set that does not exist yet is followed when it appears
    /// (<see cref="NamespaceEvent"/> with <see cref="KernelChange.Added"/>, sent once it is subscribed);
    /// one deleted while watched is reported with <see cref="KernelChange.Removed"/>.
    /// Disposing the subscription ends the stream and releases every socket and descriptor it holds.
    /// </summary>
    IKernelEventSubscription Subscribe(IReadOnlyCollection<NetnsId> namespaces, KernelWatchOptions? options = null);
}

/// <summary>An open subscription: its events, in the order each namespace's kernel sent them.</summary>
public interface IKernelEventSubscription : IDisposable, IAsyncDisposable
{
    /// <summary>
    /// The events. The queue is bounded (<see cref="KernelWatchOptions.QueueCapacity"/>): while it is full
    /// the driver stops reading, the kernel's queues fill and overflow, and the namespaces concerned get a
    /// <see cref="ResyncNeeded"/>: a slow reader loses detail, never the knowledge that something changed.
    /// Completes when the subscription is disposed, or with the error that stopped it.
    /// </summary>
    ChannelReader<KernelEvent> Events { get; }
}

/// <summary>How a subscription reads the kernel.</summary>
public sealed record KernelWatchOptions
{
    /// <summary>A 1 MiB receive buffer per socket, 16384 queued events, nf_tables included.</summary>
    public static KernelWatchOptions Default { get; } = new();

    /// <summary>
    /// Receive buffer of each event socket (SO_RCVBUFFORCE, falling back to SO_RCVBUF capped by rmem_max).
    /// When a burst overflows it the kernel drops events and the namespace gets a <see cref="ResyncNeeded"/>.
    /// </summary>
    public int ReceiveBufferBytes { get; init; } = 1024 * 1024;

    /// <summary>Events queued for the reader before the driver stops reading (see <see cref="IKernelEventSubscription.Events"/>).</summary>
    public int QueueCapacity { get; init; } = 16384;

    /// <summary>Also subscribe to nf_tables changes (NFNLGRP_NFTABLES). A kernel without nf_tables has none to report.</summary>
    public bool Nftables { get; init; } = true;
}

/// <summary>What happened to an object. A link, address or route changed in place counts as <see cref="Changed"/>
/// only when the kernel says so (a link's notification of its registration, a route's NLM_F_REPLACE);
/// an address notification is always <see cref="Added"/>.</summary>
public enum KernelChange
{
    /// <summary>The object appeared (RTM_NEW* / NFT_MSG_NEW*).</summary>
    Added,
    /// <summary>The object changed in place (RTM_NEWLINK of a known link, a route replaced).</summary>
    Changed,
    /// <summary>The object went away (RTM_DEL* / NFT_MSG_DEL*).</summary>
    Removed,
}

/// <summary>One change in one namespace.</summary>
/// <param name="Namespace">Where it happened, as the subscriber named it.</param>
public abstract record KernelEvent(NetnsId Namespace)
{
    /// <summary>When the driver read the event (<see cref="Stopwatch.GetTimestamp"/> ticks), for latency measurements.</summary>
    public long Timestamp { get; init; } = Stopwatch.GetTimestamp();
}

/// <summary>A named namespace of the subscription appeared (and is now subscribed) or was deleted.</summary>
public sealed record NamespaceEvent(NetnsId Namespace, KernelChange Change) : KernelEvent(Namespace);

/// <summary>RTM_NEWLINK / RTM_DELLINK. A veth's peer namespace (<see cref="Links.IfLink.Namespace"/> of
/// <see cref="LinkState.IfLink"/>) is set when the driver already knows which namespace the peer's namespace id
/// means, null otherwise.</summary>
public sealed record LinkEvent(NetnsId Namespace, KernelChange Change, LinkState Link) : KernelEvent(Namespace);

/// <summary>RTM_NEWADDR / RTM_DELADDR, IPv4 and IPv6.</summary>
public sealed record AddressEvent(NetnsId Namespace, KernelChange Change, AddressState Address) : KernelEvent(Namespace);

/// <summary>RTM_NEWROUTE / RTM_DELROUTE of the main table, IPv4 and IPv6.</summary>
public sealed record RouteEvent(NetnsId Namespace, KernelChange Change, RouteState Route) : KernelEvent(Namespace);

/// <summary>
/// RTM_NEWNETCONF / RTM_DELNETCONF (RTNLGRP_IPV4_NETCONF, RTNLGRP_IPV6_NETCONF): a namespace's IPv4 or IPv6
/// configuration of all devices, of new devices, or of one device changed. The kernel announces only some of its
/// sysctls, and only when their value changes: <c>forwarding</c> (with <c>net.ipv4.ip_forward</c>, which sets it
/// for all, default and every device), <c>rp_filter</c>, <c>proxy_arp</c>/<c>proxy_ndp</c> (as proxy_neigh),
/// <c>ignore_routes_with_linkdown</c> (devinet_conf_proc in net/ipv4/devinet.c, addrconf_sysctl_* in
/// net/ipv6/addrconf.c); a device's whole configuration is announced when it registers, removed when it goes.
/// </summary>
/// <param name="Namespace">Where the configuration changed.</param>
/// <param name="Change">Added (or changed) or removed.</param>
/// <param name="IPv6">False for IPv4 (AF_INET), true for IPv6.</param>
/// <param name="Device">The device's ifindex, or <see cref="AllDevices"/> (the <c>all</c> configuration) or
/// <see cref="DefaultDevice"/> (the <c>default</c> one).</param>
/// <param name="Values">The values the message carries, by sysctl name (<c>forwarding</c>, <c>rp_filter</c>,
/// <c>proxy_neigh</c>, <c>ignore_routes_with_linkdown</c>, <c>mc_forwarding</c>).</param>
public sealed record NetconfEvent(NetnsId Namespace, KernelChange Change, bool IPv6, int Device, IReadOnlyDictionary<string, int> Values)
    : KernelEvent(Namespace)
{
    /// <summary>NETCONFA_IFINDEX_ALL (include/uapi/linux/netconf.h): <c>net.ipv4.conf.all.*</c>.</summary>
    public const int AllDevices = -1;

    /// <summary>NETCONFA_IFINDEX_DEFAULT: <c>net.ipv4.conf.default.*</c>, what new devices get.</summary>
    public const int DefaultDevice = -2;

    /// <summary>The sysctl keys this message is about, with <paramref name="deviceName"/> for a device's own
    /// (<c>net.ipv4.conf.eth0.forwarding</c>): <c>all</c>'s forwarding is also <c>net.ipv4.ip_forward</c>.</summary>
    public IEnumerable<string> Keys(string? deviceName = null)
    {
        string family = IPv6 ? "ipv6" : "ipv4";
        string device = Device switch { AllDevices => "all", DefaultDevice => "default", _ => deviceName ?? Device.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        foreach (var name in Values.Keys)
        {
            yield return $"net.{family}.conf.{device}.{(name == "proxy_neigh" ? IPv6 ? "proxy_ndp" : "proxy_arp" : name)}";
            if (!IPv6 && Device == AllDevices && name == "forwarding") yield return "net.ipv4.ip_forward";
        }
    }
}

/// <summary>What a traffic-control notification is about.</summary>
public enum TrafficControlObject
{
    /// <summary>A qdisc (RTM_NEWQDISC, RTM_DELQDISC).</summary>
    Qdisc,
    /// <summary>A filter (RTM_NEWTFILTER, RTM_DELTFILTER).</summary>
    Filter,
}

/// <summary>
/// RTM_NEWQDISC / RTM_DELQDISC, RTM_NEWTFILTER / RTM_DELTFILTER (RTNLGRP_TC). The kernel announces qdiscs added,
/// changed (as added) and deleted, and the default qdisc a new one replaces (deleted); not a default qdisc coming
/// back after a deletion, nor the qdiscs of a link going down, up or away.
/// </summary>
/// <param name="Namespace">Where the link is.</param>
/// <param name="Change">Added (or changed) or deleted.</param>
/// <param name="Object">A qdisc or a filter.</param>
/// <param name="LinkIndex">The link's ifindex.</param>
/// <param name="Kind">TCA_KIND: <c>tbf</c>, <c>netem</c>, <c>ingress</c>, <c>noqueue</c>; <c>u32</c> for a filter.</param>
/// <param name="Handle">The qdisc's handle (<c>5601:</c>); a filter's handle.</param>
/// <param name="Parent">The parent: <see cref="TcHandle.Root"/>, <see cref="TcHandle.IngressParent"/>, or for a filter its qdisc.</param>
public sealed record TrafficControlEvent(NetnsId Namespace, KernelChange Change, TrafficControlObject Object, int LinkIndex, string Kind,
    TcHandle Handle, TcHandle Parent) : KernelEvent(Namespace);

/// <summary>The kinds of nf_tables objects a notification is about.</summary>
public enum NftObjectKind
{
    /// <summary>NFT_MSG_NEWTABLE / DELTABLE.</summary>
    Table,
    /// <summary>NFT_MSG_NEWCHAIN / DELCHAIN.</summary>
    Chain,
    /// <summary>NFT_MSG_NEWRULE / DELRULE.</summary>
    Rule,
    /// <summary>NFT_MSG_NEWSET / DELSET.</summary>
    Set,
    /// <summary>NFT_MSG_NEWSETELEM / DELSETELEM.</summary>
    SetElement,
    /// <summary>NFT_MSG_NEWOBJ / DELOBJ (stateful objects: counters, quotas, ...).</summary>
    Object,
    /// <summary>NFT_MSG_NEWFLOWTABLE / DELFLOWTABLE.</summary>
    Flowtable,
}

/// <summary>An nf_tables object was added or removed (NFT_MSG_NEW*/DEL*).</summary>
/// <param name="Namespace">Where it happened, as the subscriber named it.</param>
/// <param name="Change">Added or removed.</param>
/// <param name="Object">What kind of object.</param>
/// <param name="Family">The table's family as nft names it: inet, ip, ip6, ...</param>
/// <param name="Table">The table's name (for a table: the table itself).</param>
/// <param name="Name">The chain, set, object or flowtable name; for a rule or a set element, its chain or set; null for a table.</param>
public sealed record NftEvent(NetnsId Namespace, KernelChange Change, NftObjectKind Object, string Family, string Table, string? Name)
    : KernelEvent(Namespace);

/// <summary>An nf_tables transaction was committed (NFT_MSG_NEWGEN): the <see cref="NftEvent"/>s before it were one change.</summary>
public sealed record NftCommitEvent(NetnsId Namespace, uint Generation) : KernelEvent(Namespace);

/// <summary>
/// Events of this namespace were lost (the kernel dropped them: ENOBUFS; or one could not be decoded):
/// only a full observation of the namespace tells what it holds now.
/// </summary>
public sealed record ResyncNeeded(NetnsId Namespace, string Reason) : KernelEvent(Namespace);

/// <summary>Helpers over <see cref="IKernelEvents"/>.</summary>
public static class KernelEventsExtensions
{
    /// <summary>
    /// The events of <paramref name="namespaces"/> as an async stream: subscribes when enumeration starts,
    /// ends (without an exception) when <paramref name="cancellationToken"/> is cancelled, and releases the
    /// subscription then. Use <see cref="IKernelEvents.Subscribe"/> to know when the subscription is open.
    /// </summary>
    public static async IAsyncEnumerable<KernelEvent> WatchAsync(this IKernelEvents kernel, IReadOnlyCollection<NetnsId> namespaces,
        KernelWatchOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        await using var subscription = kernel.Subscribe(namespaces, options);
        var reader = subscription.Events;
        while (true)
        {
            bool more;
            try
            {
                more = await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                yield break;
            }
            if (!more) yield break;
            while (reader.TryRead(out var e)) yield return e;
        }
    }
}
