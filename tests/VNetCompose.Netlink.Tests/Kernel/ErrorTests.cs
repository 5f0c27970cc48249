using VNetCompose.Kernel;
using VNetCompose.TestSupport;

namespace VNetCompose.Netlink.Tests.Kernel;

/// <summary>Refusals: each a typed <see cref="KernelException"/> with errno, operation and the kernel's text.</summary>
public sealed class ErrorTests : KernelTestBase
{
    [Fact]
    public void CreateBridge_WithATakenName_FailsWithEexist()
    {
        string ns = Sandbox.Create("dup");
        Kernel.CreateBridge(Ns(ns), new BridgeRequest("br0"));

        var error = Refusal(() => Kernel.CreateBridge(Ns(ns), new BridgeRequest("br0")));

        error.Errno.Should().Be(Errnos.EEXIST);
        error.ErrnoName.Should().Be("EEXIST");
        error.Message.Should().StartWith($"creating bridge br0 in namespace {ns}: File exists (EEXIST)");
    }

    [Fact]
    public void CreateVeth_WhosePeerNameIsTakenInItsNamespace_FailsWithEexist_AndCreatesNothing()
    {
        string left = Sandbox.Create("l"), right = Sandbox.Create("r");
        Kernel.CreateBridge(Ns(right), new BridgeRequest("eth0"));

        var error = Refusal(() => Kernel.CreateVeth(new VethEndRequest(Ns(left), "eth0"), new VethEndRequest(Ns(right), "eth0")));

        error.Errno.Should().Be(Errnos.EEXIST);
        error.Message.Should().StartWith($"creating veth eth0 in namespace {left} (peer eth0 in namespace {right}): File exists (EEXIST)");
        Oracle.Link(left, "eth0").Should().BeNull();
    }

    [Fact]
    public void CreateTap_WithATakenName_FailsWithEexist()
    {
        string ns = Sandbox.Create("tapdup");
        Kernel.CreateBridge(Ns(ns), new BridgeRequest("tap0"));

        var error = Refusal(() => Kernel.CreateTuntap(Ns(ns), new TuntapRequest("tap0", TunMode.Tap)));

        error.Errno.Should().Be(Errnos.EEXIST);
        error.Message.Should().Be($"creating tap tap0 in namespace {ns}: File exists (EEXIST): a link named tap0 already exists");
        Oracle.Link(ns, "tap0")!.Kind.Should().Be("bridge", "the existing link is untouched");
    }

    [Fact]
    public void AnyOperation_InAMissingNamespace_FailsWithEnoent()
    {
        string missing = Sandbox.Name("missing");

        var error = Refusal(() => Kernel.CreateBridge(Ns(missing), new BridgeRequest("br0")));

        error.Errno.Should().Be(Errnos.ENOENT);
        error.Message.Should().Be($"creating bridge br0 in namespace {missing}: No such file or directory (ENOENT): there is no namespace named {missing}");
        Sandbox.Existing().Should().BeEmpty("nothing was created on the way");
    }

    [Fact]
    public void CreateBridge_WithANameOver15Bytes_IsRefusedByTheKernel()
    {
        string ns = Sandbox.Create("long");

        var error = Refusal(() => Kernel.CreateBridge(Ns(ns), new BridgeRequest("name-of-16-bytes")));

        error.Errno.Should().Be(Errnos.ERANGE);
        error.KernelMessage.Should().NotBeNullOrEmpty();
        error.Message.Should().StartWith($"creating bridge name-of-16-bytes in namespace {ns}: Numerical result out of range (ERANGE): ");
        Oracle.Links(ns).Select(l => l.Name).Should().Equal("lo");
    }

    [Fact]
    public void CreateTap_WithANameOver15Bytes_IsRefused()
    {
        string ns = Sandbox.Create("longtap");

        var error = Refusal(() => Kernel.CreateTuntap(Ns(ns), new TuntapRequest("name-of-16-bytes", TunMode.Tap)));

        error.Errno.Should().Be(Errnos.EINVAL);
        error.KernelMessage.Should().Be("interface name 'name-of-16-bytes' must be 1 to 15 bytes");
        Oracle.Links(ns).Select(l => l.Name).Should().Equal("lo");
    }

    [Fact]
    public void UpdateLink_WithAnUnknownMaster_FailsWithEnodevNamingTheMaster()
    {
        string ns = Sandbox.Create("master");
        Kernel.CreateVeth(new VethEndRequest(Ns(ns), "p0"), new VethEndRequest(Ns(ns), "p1"));

        var error = Refusal(() => Kernel.UpdateLink(Ns(ns), "p0", new LinkUpdate(Master: "br9")));

        error.Errno.Should().Be(Errnos.ENODEV);
        error.Message.Should().StartWith($"updating link p0 in namespace {ns} (master br9): No such device (ENODEV): there is no link named br9 to enslave p0 to");
        Oracle.Link(ns, "p0")!.Master.Should().BeNull();
    }

    [Fact]
    public void DeleteLink_Missing_FailsWithEnodev()
    {
        string ns = Sandbox.Create("nolink");

        var error = Refusal(() => Kernel.DeleteLink(Ns(ns), "ghost0"));

        error.Errno.Should().Be(Errnos.ENODEV);
        error.Message.Should().StartWith($"deleting link ghost0 in namespace {ns}: No such device (ENODEV)");
    }

    [Fact]
    public void UpdateLink_Missing_FailsWithEnodev()
    {
        string ns = Sandbox.Create("noupd");

        var error = Refusal(() => Kernel.UpdateLink(Ns(ns), "ghost0", new LinkUpdate(Up: true)));

        error.Errno.Should().Be(Errnos.ENODEV);
        error.Operation.Should().Be($"updating link ghost0 in namespace {ns} (up)");
    }

    [Fact]
    public void CreateBridge_WithAMalformedMac_IsRefusedClearly()
    {
        string ns = Sandbox.Create("mac");

        var error = Refusal(() => Kernel.CreateBridge(Ns(ns), new BridgeRequest("br0", Mac: "02:42:zz:00:00:01")));

        error.Errno.Should().Be(Errnos.EINVAL);
        error.KernelMessage.Should().Be("'02:42:zz:00:00:01' is not a MAC address (six hex bytes separated by ':')");
    }

    [Fact]
    public void DeleteNamespace_Missing_FailsWithEnoent()
    {
        var error = Refusal(() => Kernel.DeleteNamespace(Sandbox.Name("gone")));

        error.Errno.Should().Be(Errnos.ENOENT);
        error.Message.Should().Be($"deleting namespace {Sandbox.Name("gone")}: No such file or directory (ENOENT)");
    }

    [Fact]
    public void CreateNamespace_Existing_FailsWithEexist()
    {
        string ns = Sandbox.Create("exists");

        var error = Refusal(() => Kernel.CreateNamespace(ns));

        error.Errno.Should().Be(Errnos.EEXIST);
    }
}
