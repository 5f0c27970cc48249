using VNetCompose.Kernel;
using VNetCompose.Kernel.Links;
using VNetCompose.Kernel.Links.Kinds;
using VNetCompose.Netlink.Devices;
using VNetCompose.Netlink.Interop;
using VNetCompose.Netlink.Namespaces;
using VNetCompose.Netlink.Rtnetlink;
using VNetCompose.Netlink.Wire;

namespace VNetCompose.Netlink;

public sealed partial class NetlinkKernel
{
    /// <summary>
    /// Creates a link of any kind: a veth pair (<see cref="CreateVeth"/>), a tun/tap (<see cref="CreateTuntap"/>), or
    /// any other kind through RTM_NEWLINK with the kind's IFLA_INFO_DATA. Then the ifalias (which creation ignores)
    /// and what else the kind needs; a failure after creation deletes the link again, so a failed create leaves nothing.
    /// </summary>
    public void CreateLink(NetnsId ns, LinkRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        switch (request.Data)
        {
            case VethData { Peer: { } peer }:
                CreateVeth(ns, request, peer);
                return;
            case VethData:
                throw new ArgumentException("a veth is created with its peer", nameof(request));
            case TunData tun:
                CreateTuntap(ns, request, tun);
                return;
        }
        string operation = $"creating {request.Data.Kind.Name} {request.Name} in {In(ns)}"
            + (request.Parent is { } parent ? $" on {Describe(parent)}" : "");
        var target = Namespace(ns, operation);
        // A link on a parent elsewhere is made in the parent's namespace and put into its own at once (IFLA_NET_NS_FD).
        var creator = request.Parent is { } p && p.Namespace != ns && request.Data.Kind.ParentMayBeElsewhere
            ? Namespace(p.Namespace, operation)
            : target;
        int? parentIndex = request.Parent is { } named
            ? ResolveIndex(RouteSocket(Namespace(named.Namespace, operation)), named.Name, operation,
                $"its {request.Data.Kind.ParentKey} {Describe(named)} does not exist")
            : null;
        var message = new NetlinkMessageBuilder();
        LinkMessages.Create(message,
            new LinkMessages.NewLink(request.Name, request.Mtu, request.Mac, request.Group, creator == target ? null : target.RawFd),
            request.Data, parentIndex, operation);
        try
        {
            RouteSocket(creator).Execute(message, operation);
        }
        catch (KernelException e) when (e.Errno == Errnos.EOPNOTSUPP)
        {
            // The kernel says only "Unknown device type" or "Operation not supported": name what is missing.
            throw new KernelException(e.Errno, operation, Unsupported(request.Data, e), e);
        }
        CompleteCreation(target, request.Name, new LinkUpdate(Alias: request.Alias), operation,
            () => ApplyDeviceNode(target, request.Name, request.Data, creating: true, ["owner", "group"], operation));
    }

    /// <summary>
    /// Equivalent to: <c>ip -n A link add NAME_A type veth peer name NAME_B netns B</c>, then the aliases.
    /// The request goes to A's namespace and the peer carries IFLA_NET_NS_FD of B, so each end is
    /// created where it belongs: moving a link later costs an RCU synchronisation.
    /// </summary>
    private void CreateVeth(NetnsId ns, LinkRequest a, VethPeerEnd b)
    {
        string operation = $"creating veth {a.Name} in {In(ns)} (peer {b.Name} in {In(b.Namespace)})";
        var hostA = Namespace(ns, operation);
        var hostB = ns == b.Namespace ? hostA : Namespace(b.Namespace, operation);
        var request = new NetlinkMessageBuilder();
        LinkMessages.CreateVeth(request,
            new LinkMessages.NewLink(a.Name, a.Mtu, a.Mac, a.Group, NamespaceFd: null),
            new LinkMessages.NewLink(b.Name, b.Mtu, b.Mac, b.Group, NamespaceFd: hostB == hostA ? null : hostB.RawFd),
            operation);
        RouteSocket(hostA).Execute(request, operation);

        CompleteCreation(hostA, a.Name, new LinkUpdate(Alias: a.Alias), operation, () =>
            ApplyAfterCreation(hostB, b.Name, new LinkUpdate(Alias: b.Alias), operation));
    }

    /// <summary>Equivalent to: <c>ip tuntap add NAME mode tun|tap [user U] [group G] [multi_queue] [vnet_hdr]</c>,
    /// with <c>ip link set NAME [mtu M] [address X] [alias A] [group G]</c> done before the device is made persistent:
    /// until then it goes with our descriptor, so a process killed in between leaves no unmarked device.
    /// /dev/net/tun is opened on a thread inside the namespace, where the device then lives.</summary>
    private void CreateTuntap(NetnsId ns, LinkRequest request, TunData tun)
    {
        string operation = $"creating {tun.Kind.Name} {request.Name} in {In(ns)}";
        var handle = Namespace(ns, operation);
        int fd = handle.RunInside(operation, () => TunTapDevice.Create(request.Name, tun, operation));
        try
        {
            ApplyAfterCreation(handle, request.Name,
                new LinkUpdate(Mtu: request.Mtu, Mac: request.Mac, Alias: request.Alias, Group: request.Group == 0 ? null : request.Group),
                operation);
            TunTapDevice.MakePersistent(fd, operation);
        }
        finally
        {
            Native.Close(fd); // before TUNSETPERSIST succeeded, this also removes the device
        }
    }

    /// <summary>Equivalent to: <c>ip link set NAME [name NEW] [mtu M] [address X] [master B | nomaster]
    /// [alias A] [group G] [up | down] [type KIND ...] [netns NS]</c>, in one request.</summary>
    public void UpdateLink(NetnsId ns, string name, LinkUpdate update)
    {
        ArgumentNullException.ThrowIfNull(update);
        if (update.IsEmpty) return;
        string operation = $"updating link {name} in {In(ns)} ({DescribeUpdate(update)})";
        var handle = Namespace(ns, operation);
        var socket = RouteSocket(handle);
        var changes = update with { MoveTo = null };
        var request = new NetlinkMessageBuilder();
        if (!changes.IsEmpty)
        {
            // A rename needs the index: IFLA_IFNAME then carries the new name.
            int index = update.NewName is null ? 0 : ResolveIndex(socket, name, operation);
            int? masterIndex = update.Master switch
            {
                null => null,
                "" => 0,
                var master => ResolveIndex(socket, master, operation, $"there is no link named {master} to enslave {name} to"),
            };
            int? kindParent = update.Kind?.Parent is { } parent
                ? ResolveIndex(RouteSocket(Namespace(parent.Namespace, operation)), parent.Name, operation, $"{Describe(parent)} does not exist")
                : null;
            LinkMessages.Set(request, name, index, changes, masterIndex, kindParent, operation);
        }
        if (update.MoveTo is { } target)
        {
            LinkMessages.Move(request, update.NewName ?? name, Namespace(target, operation).RawFd);
        }
        socket.Execute(request, operation);
        if (update.Kind is { } kind) ApplyDeviceNode(handle, update.NewName ?? name, kind.Data, creating: false, kind.Attributes, operation);
    }

    /// <summary>Equivalent to: <c>ip link del NAME</c>. ENODEV when there is no such link; a veth's peer goes too.</summary>
    public void DeleteLink(NetnsId ns, string name)
    {
        string operation = $"deleting link {name} in {In(ns)}";
        var request = new NetlinkMessageBuilder();
        LinkMessages.Delete(request, name);
        RouteSocket(Namespace(ns, operation)).Execute(request, operation);
    }

    /// <summary>
    /// The device node of a kind that has one (a macvtap's <c>/dev/tapN</c>) made usable by the link's owner and group:
    /// the kernel has no owner attribute for it, so <c>chown</c> of the node is what gives a user's QEMU access.
    /// </summary>
    private static void ApplyDeviceNode(NamespaceHandle handle, string name, LinkData data, bool creating, IReadOnlyList<string> attributes,
        string operation)
    {
        if (data is not IDeviceOwnership owned || !(attributes.Contains("owner") || attributes.Contains("group"))) return;
        if (creating && owned.Owner is null && owned.Group is null) return; // the kernel makes it root's
        if (data.Kind.DeviceNode(ResolveIndex(RouteSocket(handle), name, operation)) is not { } path) return;
        int rc = Native.ChangeOwnership(path, owned.Owner ?? 0, owned.Group ?? 0);
        if (rc < 0) throw new KernelException(-rc, $"{operation}: changing the owner of {path}");
    }

    /// <summary>The owner and group of a link's device node, read back the way <see cref="ApplyDeviceNode"/> sets them.</summary>
    private static LinkState WithDeviceNode(LinkState link)
    {
        if (link.Data is not IDeviceOwnership owned || link.Data.Kind.DeviceNode(link.Index) is not { } path) return link;
        if (Native.Ownership(path, out var owner) < 0) return link;
        return link with { Data = owned.WithOwnership(owner.Uid == 0 ? null : owner.Uid, owner.Gid == 0 ? null : owner.Gid) };
    }

    private static NetlinkSocket RouteSocket(NamespaceHandle handle) => handle.Socket(NetlinkProtocol.Route);

    private static string Describe(LinkPath link) => $"{(link.Namespace.IsCurrent ? "host" : link.Namespace.Name)}/{link.Name}";

    /// <summary>ifindex of a link by name (<c>ip link show NAME</c>); ENODEV, with <paramref name="missing"/> as
    /// explanation when given, if there is none.</summary>
    private static int ResolveIndex(NetlinkSocket socket, string name, string operation, string? missing = null)
    {
        var request = new NetlinkMessageBuilder(128);
        LinkMessages.Get(request, name);
        int index = 0;
        try
        {
            socket.Execute(request, operation, message => index = message.ReadStruct<IfInfoMsg>().Index);
        }
        catch (KernelException e) when (e.Errno == Errnos.ENODEV && missing is not null)
        {
            throw new KernelException(e.Errno, operation, missing + KernelSays(e), e);
        }
        return index;
    }

    /// <summary>
    /// Applies what creation could not set (ifalias, and for taps mtu/mac/group), then <paramref name="more"/>;
    /// on failure deletes the link just created, so a failed create leaves nothing behind.
    /// </summary>
    private static void CompleteCreation(NamespaceHandle handle, string name, LinkUpdate settings, string operation, Action? more = null)
    {
        try
        {
            ApplyAfterCreation(handle, name, settings, operation);
            more?.Invoke();
        }
        catch (KernelException)
        {
            DeleteQuietly(handle, name);
            throw;
        }
    }

    private static void ApplyAfterCreation(NamespaceHandle handle, string name, LinkUpdate settings, string operation)
    {
        if (settings.IsEmpty) return;
        var request = new NetlinkMessageBuilder();
        LinkMessages.SetByName(request, name, settings, operation);
        RouteSocket(handle).Execute(request, $"{operation}: setting {DescribeUpdate(settings)} on {name}");
    }

    /// <summary>Best-effort cleanup while another error is already being reported.</summary>
    private static void DeleteQuietly(NamespaceHandle handle, string name)
    {
        try
        {
            var request = new NetlinkMessageBuilder();
            LinkMessages.Delete(request, name);
            RouteSocket(handle).Execute(request, $"deleting link {name}");
        }
        catch (KernelException)
        {
            // The original failure is the one worth reporting.
        }
    }

    private static string KernelSays(KernelException e) => e.KernelMessage is null ? "" : $" (kernel: {e.KernelMessage})";

    /// <summary>What a refusal of a kind or of one of its attributes means, in the kernel's words too.</summary>
    private static string Unsupported(LinkData data, KernelException e) =>
        data.Kind.Unsupported(data, e.KernelMessage ?? Errnos.Describe(e.Errno)).Message;

    /// <summary>The change in iproute2 words: "mtu 1400, master br0, up".</summary>
    private static string DescribeUpdate(LinkUpdate update)
    {
        var parts = new List<string>();
        if (update.NewName is { } newName) parts.Add($"name {newName}");
        if (update.Mtu is { } mtu) parts.Add($"mtu {mtu}");
        if (update.Mac is { } mac) parts.Add($"address {mac}");
        if (update.Master is { } master) parts.Add(master.Length == 0 ? "nomaster" : $"master {master}");
        if (update.Alias is { } alias) parts.Add($"alias '{alias}'");
        if (update.Group is { } group) parts.Add($"group {group}");
        if (update.Kind is { } kind) parts.Add($"type {kind.Data.Kind.Name} {string.Join(" ", kind.Attributes)}");
        if (update.Up is { } up) parts.Add(up ? "up" : "down");
        if (update.MoveTo is { } target) parts.Add($"netns {target}");
        return string.Join(", ", parts);
    }
}
