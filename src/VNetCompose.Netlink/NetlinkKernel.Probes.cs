using System.Collections.Concurrent;
using VNetCompose.Kernel;
using VNetCompose.Kernel.Links;
using VNetCompose.Netlink.Interop;
using VNetCompose.Netlink.Namespaces;
using VNetCompose.Netlink.Rtnetlink;

namespace VNetCompose.Netlink;

public sealed partial class NetlinkKernel
{
    private readonly ConcurrentDictionary<LinkData, string?> _probes = new();

    /// <summary>
    /// Whether this kernel can create such a link, asked in a throwaway namespace (unshared by the namespace
    /// thread, gone when the probe's socket closes), so nothing a user can see changes. A kind is asked for with
    /// IFLA_MTU 0: a kernel that has the kind refuses the MTU ("mtu less than device minimum") or the missing
    /// attributes before creating anything, one that lacks it answers "Unknown device type" (rtnl_newlink loads the
    /// kind's module first). An attribute the kernel may refuse (a bridge's vlan_filtering) is asked for by
    /// creating the link there. Answers are cached for the driver's life.
    /// </summary>
    public string? ProbeLinkSupport(LinkData data)
    {
        ArgumentNullException.ThrowIfNull(data);
        return _probes.GetOrAdd(data, Probe);
    }

    /// <summary>
    /// Asks nlctrl for the family by name (CTRL_CMD_GETFAMILY), byte for byte as <c>genl ctrl get name FAMILY</c>
    /// does. ENOENT: the kernel has no such family and could not load a module providing it (the lookup itself
    /// requests <c>net-pf-16-proto-16-family-FAMILY</c>). Families are not per namespace: any socket answers.
    /// </summary>
    public bool? HasGenericNetlinkFamily(string family)
    {
        ArgumentException.ThrowIfNullOrEmpty(family);
        string operation = $"looking up generic netlink family {family}";
        using var socket = NetlinkSocket.Open(NetlinkProtocol.Generic);
        try
        {
            socket.Execute(GetFamilyRequest(family), operation, _ => { });
            return true;
        }
        catch (KernelException e) when (e.Errno == Errnos.ENOENT)
        {
            return false;
        }
    }

    /// <summary>nlctrl's CTRL_CMD_GETFAMILY for <paramref name="family"/> (sequence number stamped when sent).</summary>
    internal static Wire.NetlinkMessageBuilder GetFamilyRequest(string family) =>
        new Wire.NetlinkMessageBuilder(64)
            .BeginMessage(Genl.GENL_ID_CTRL, Nl.NLM_F_ACK)
            .Struct(new GenlMsgHdr { Command = Genl.CTRL_CMD_GETFAMILY })
            .String(Genl.CTRL_ATTR_FAMILY_NAME, family)
            .EndMessage();

    private static string? Probe(LinkData data)
    {
        string operation = $"asking the kernel whether it has {data.Kind.Name} links";
        using var socket = NamespaceThread.RunInNewNamespace(operation, () => NetlinkSocket.Open(NetlinkProtocol.Route));
        bool create = data.Kind.ProbeByCreating(data);
        var message = new Wire.NetlinkMessageBuilder();
        LinkMessages.Create(message, new LinkMessages.NewLink("vnet-probe", create ? null : 0, null, 0, null), data, null, operation);
        try
        {
            socket.Execute(message, operation);
            return null;
        }
        catch (KernelException e) when (e.Errno is Errnos.EOPNOTSUPP)
        {
            return e.KernelMessage ?? Errnos.Describe(e.Errno);
        }
        catch (KernelException) when (!create)
        {
            return null; // refused for its attributes: the kernel knows the kind
        }
    }
}
