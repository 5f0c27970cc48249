using VNetCompose.Kernel;

namespace VNetCompose.Netlink;

// The nf_tables half of the driver (issue 5) replaces this file.
public sealed partial class NetlinkKernel
{
    public IReadOnlyList<NftTableInfo> ListNftTables(NetnsId ns) => throw NotYet();

    public NatTableState? ReadNatTable(NetnsId ns, string name) => throw NotYet();

    public void ReplaceNatTable(NetnsId ns, NatTableState table) => throw NotYet();

    public void DeleteNatTable(NetnsId ns, string name) => throw NotYet();

    private static NotSupportedException NotYet() => new("nf_tables driver: issue 5");
}
