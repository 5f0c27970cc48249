using System.Net.Sockets;
using System.Text;
using VNetCompose.Kernel;
using VNetCompose.Netlink.Namespaces;

namespace VNetCompose.Netlink.Tests.Nftables;

/// <summary>
/// Makes legacy iptables instantiate a table in a sandbox namespace without the iptables-legacy tool:
/// the kernel creates a legacy table on demand the first time a process asks about it
/// (getsockopt IPT_SO_GET_INFO, include/uapi/linux/netfilter_ipv4/ip_tables.h), as <c>iptables-legacy -L</c> does.
/// </summary>
internal static class LegacyIptables
{
    private const int SolIp = 0;
    private const int IptSoGetInfo = 64; // IPT_BASE_CTL
    private const int GetInfoSize = 84; // struct ipt_getinfo: name[32], valid_hooks, hook_entry[5], underflow[5], num_entries, size

    public static void Touch(string ns, string table)
    {
        using var namespaces = new NamespaceManager();
        using var socket = namespaces.Get(NetnsId.Named(ns), "test").RunInside("opening a raw socket",
            () => new Socket(AddressFamily.InterNetwork, SocketType.Raw, ProtocolType.Raw));
        var info = new byte[GetInfoSize];
        Encoding.ASCII.GetBytes(table, info);
        socket.GetRawSocketOption(SolIp, IptSoGetInfo, info);
    }
}
