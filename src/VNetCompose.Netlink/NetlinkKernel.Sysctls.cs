using VNetCompose.Kernel;
using VNetCompose.Netlink.Devices;

namespace VNetCompose.Netlink;

public sealed partial class NetlinkKernel
{
    /// <summary>Equivalent to: <c>ip netns exec NS sysctl -n KEY</c>; null when the key does not exist.</summary>
    public string? ReadSysctl(NetnsId ns, string key)
    {
        string operation = $"reading sysctl {key} in {In(ns)}";
        string path = Sysctl.PathOf(key, operation);
        return Namespace(ns, operation).RunInside(operation, () => Sysctl.Read(path, operation));
    }

    /// <summary>Equivalent to: <c>ip netns exec NS sysctl -w KEY=VALUE</c>.</summary>
    public void WriteSysctl(NetnsId ns, string key, string value)
    {
        string operation = $"writing sysctl {key}={value} in {In(ns)}";
        string path = Sysctl.PathOf(key, operation);
        Namespace(ns, operation).RunInside(operation, () =>
        {
            Sysctl.Write(path, value, operation);
            return true;
        });
    }
}
