using System.Text;
using VNetCompose.Kernel;
using VNetCompose.Netlink.Devices;
using VNetCompose.Netlink.Interop;
using VNetCompose.Netlink.Namespaces;
using VNetCompose.Netlink.Rtnetlink;
using VNetCompose.Netlink.Wire;

namespace VNetCompose.Netlink;

public sealed partial class NetlinkKernel
{
    /// <summary>
    /// Equivalent to: <c>ip -n A link add NAME_A type veth peer name NAME_B netns B</c>, then the aliases.
    /// The request goes to A's namespace and the peer carries IFLA_NET_NS_FD of B, so each end is
    /// created where it belongs: moving a link later costs an RCU synchronisation.
    /// </summary>
    public void CreateVeth(VethEndRequest a, VethEndRequest b)
    {
        string operation = $"creating veth {a.Name} in {In(a.Namespace)} (peer {b.Name} in {In(b.Namespace)})";
        var hostA = Namespace(a.Namespace, operation);
        var hostB = a.Namespace == b.Namespace ? hostA : Namespace(b.Namespace, operation);
        var request = new NetlinkMessageBuilder();
        LinkMessages.CreateVeth(request,
            new LinkMessages.NewLink(a.Name, a.Mtu, a.Mac, a.Group, NamespaceFd: null),
            new LinkMessages.NewLink(b.Name, b.Mtu, b.Mac, b.Group, NamespaceFd: hostB == hostA ? null : hostB.RawFd),
            operation);
        RouteSocket(hostA).Execute(request, operation);

        CompleteCreation(hostA, a.Name, new LinkUpdate(Alias: a.Alias), operation, () =>
            ApplyAfterCreation(hostB, b.Name, new LinkUpdate(Alias: b.Alias), operation));
    }

    /// <summary>Equivalent to: <c>ip link add NAME [mtu M] [address X] type bridge [stp_state 1] [vlan_filtering 1]</c>.</summary>
    public void CreateBridge(NetnsId ns, BridgeRequest request)
    {
        string operation = $"creating bridge {request.Name} in {In(ns)}";
        var handle = Namespace(ns, operation);
        var message = new NetlinkMessageBuilder();
        LinkMessages.CreateBridge(message, new LinkMessages.NewLink(request.Name, request.Mtu, request.Mac, request.Group, null),
            request.Stp, request.VlanFiltering, operation);
        try
        {
            RouteSocket(handle).Execute(message, operation);
        }
        catch (KernelException e) when (e.Errno == Errnos.EOPNOTSUPP && request.VlanFiltering)
        {
            // The kernel says only "Operation not supported": name the missing feature.
            throw new KernelException(e.Errno, operation,
                "bridge vlan_filtering is not supported by this kernel (CONFIG_BRIDGE_VLAN_FILTERING)" + KernelSays(e), e);
        }
        CompleteCreation(handle, request.Name, new LinkUpdate(Alias: request.Alias), operation);
    }

    /// <summary>Equivalent to: <c>ip tuntap add NAME mode tun|tap [user U] [group G] [multi_queue]</c>,
    /// then <c>ip link set NAME [mtu M] [address X] [alias A] [group G]</c>. /dev/net/tun is opened on a
    /// thread inside the namespace, where the device then lives.</summary>
    public void CreateTuntap(NetnsId ns, TuntapRequest request)
    {
        string operation = $"creating {(request.Mode == TunMode.Tap ? "tap" : "tun")} {request.Name} in {In(ns)}";
        var handle = Namespace(ns, operation);
        handle.RunInside(operation, () =>
        {
            TunTapDevice.CreatePersistent(request, operation);
            return true;
        });
        CompleteCreation(handle, request.Name,
            new LinkUpdate(Mtu: request.Mtu, Mac: request.Mac, Alias: request.Alias, Group: request.LinkGroup == 0 ? null : request.LinkGroup),
            operation);
    }

    /// <summary>Equivalent to: <c>ip link set NAME [name NEW] [mtu M] [address X] [master B | nomaster]
    /// [alias A] [group G] [up | down] [type bridge stp_state S] [netns NS]</c>, in one request.</summary>
    public void UpdateLink(NetnsId ns, string name, LinkUpdate update)
    {
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
            LinkMessages.Set(request, name, index, changes, masterIndex, operation);
        }
        if (update.MoveTo is { } target)
        {
            LinkMessages.Move(request, update.NewName ?? name, Namespace(target, operation).RawFd);
        }
        socket.Execute(request, operation);
    }

    /// <summary>Equivalent to: <c>ip link del NAME</c>. ENODEV when there is no such link; a veth's peer goes too.</summary>
    public void DeleteLink(NetnsId ns, string name)
    {
        string operation = $"deleting link {name} in {In(ns)}";
        var request = new NetlinkMessageBuilder();
        LinkMessages.Delete(request, name);
        RouteSocket(Namespace(ns, operation)).Execute(request, operation);
    }

    private static NetlinkSocket RouteSocket(NamespaceHandle handle) => handle.Socket(NetlinkProtocol.Route);

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
        if (update.Stp is { } stp) parts.Add($"stp_state {(stp ? 1 : 0)}");
        if (update.Up is { } up) parts.Add(up ? "up" : "down");
        if (update.MoveTo is { } target) parts.Add($"netns {target}");
        return string.Join(", ", parts);
    }
}
