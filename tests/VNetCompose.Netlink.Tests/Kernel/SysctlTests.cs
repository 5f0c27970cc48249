using VNetCompose.Kernel;
using VNetCompose.TestSupport;

namespace VNetCompose.Netlink.Tests.Kernel;

public sealed class SysctlTests : KernelTestBase
{
    [Fact]
    public void WriteSysctl_ChangesOnlyTheTargetNamespace()
    {
        string ns = Sandbox.Create("fwd");
        string before = File.ReadAllText("/proc/sys/net/ipv4/ip_forward").Trim();
        string wanted = before == "1" ? "0" : "1";

        Kernel.WriteSysctl(Ns(ns), "net.ipv4.ip_forward", wanted);

        Oracle.Sysctl(ns, "net.ipv4.ip_forward").Should().Be(wanted);
        Kernel.ReadSysctl(Ns(ns), "net.ipv4.ip_forward").Should().Be(wanted);
        File.ReadAllText("/proc/sys/net/ipv4/ip_forward").Trim().Should().Be(before, "the process's own namespace is untouched");
    }

    [Fact]
    public void ReadSysctl_PerInterfaceKey_InSlashForm_ReadsThatInterface()
    {
        string ns = Sandbox.Create("iface");
        Kernel.CreateBridge(Ns(ns), new BridgeRequest("br.1"));
        Kernel.WriteSysctl(Ns(ns), "net/ipv6/conf/br.1/disable_ipv6", "1");

        Kernel.ReadSysctl(Ns(ns), "net/ipv6/conf/br.1/disable_ipv6").Should().Be("1");
        Oracle.Sysctl(ns, "net/ipv6/conf/br.1/disable_ipv6").Should().Be("1");
        Kernel.ReadSysctl(Ns(ns), "net.ipv6.conf.lo.disable_ipv6").Should().Be("0");
    }

    [Fact]
    public void ReadSysctl_UnknownKey_IsNull()
    {
        string ns = Sandbox.Create("nokey");

        Kernel.ReadSysctl(Ns(ns), "net.ipv4.no_such_key").Should().BeNull();
    }

    [Theory]
    [InlineData("kernel.hostname")]
    [InlineData("net..ip_forward")]
    [InlineData("net.ipv4.../../kernel/hostname")]
    public void Sysctl_KeysOutsideNet_AreRefused(string key)
    {
        string ns = Sandbox.Create("key");

        var error = Refusal(() => Kernel.WriteSysctl(Ns(ns), key, "x"));

        error.Errno.Should().Be(Errnos.EINVAL);
        error.KernelMessage.Should().Contain("is not a net.* sysctl key");
    }

    [Fact]
    public void WriteSysctl_InvalidValue_CarriesTheKernelsErrno()
    {
        string ns = Sandbox.Create("badval");

        var error = Refusal(() => Kernel.WriteSysctl(Ns(ns), "net.ipv4.ip_forward", "banana"));

        error.Errno.Should().Be(Errnos.EINVAL);
        error.Message.Should().Be($"writing sysctl net.ipv4.ip_forward=banana in namespace {ns}: Invalid argument (EINVAL)");
    }
}
