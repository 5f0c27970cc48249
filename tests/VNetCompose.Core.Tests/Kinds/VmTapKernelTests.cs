using System.Text.Json;
using VNetCompose.Core.Rendering;
using VNetCompose.Model;
using VNetCompose.TestSupport;

namespace VNetCompose.Core.Tests.Kinds;

/// <summary>
/// The VM-ready tap of topologies/vm-bridge.yaml on the real kernel: vnet_hdr, multi_queue and the owner as the
/// kernel reports them (ip -d -j), a "VM" (a process of the owner uid, attaching as QEMU does) reading a frame with
/// its virtio-net header, and no drift reported for the flags the attached program chose.
/// </summary>
public sealed class VmTapKernelTests : IDisposable
{
    private const int Owner = 1000;
    private readonly SandboxedEngine _lab = new();

    public void Dispose() => _lab.Dispose();

    /// <summary>
    /// Attaches to the tap as QEMU does when libvirt hands it the device: /dev/net/tun opened with root's rights (it is
    /// root's alone on some machines), then the uid in argv[1] taken for good before TUNSETIFF with IFF_TAP|IFF_NO_PI|
    /// IFF_VNET_HDR|IFF_MULTI_QUEUE (the kernel checks the tap's owner then). Says "attached" (or the error), then
    /// prints the first 32 bytes of the first ARP frame as hex.
    /// </summary>
    private const string Vm = """
        import fcntl, os, struct, sys
        fd = os.open('/dev/net/tun', os.O_RDWR)
        uid = int(sys.argv[1])
        os.setgroups([]); os.setgid(uid); os.setuid(uid)
        try:
            fcntl.ioctl(fd, 0x400454ca, struct.pack('16sH22x', b'vm0', 0x0002 | 0x1000 | 0x4000 | 0x0100))
        except OSError as e:
            print('refused', e.errno, flush=True); sys.exit(1)
        print('attached', flush=True)
        sys.stdin.readline()
        for _ in range(100):
            frame = os.read(fd, 65536)
            if frame[22:24] == b'\x08\x06': break   # ethertype ARP, after the 10-byte header and two MACs
        print(frame[:32].hex(), flush=True)
        """;

    private static System.Diagnostics.Process StartVm(string ns, int uid)
    {
        var vm = new System.Diagnostics.Process
        {
            StartInfo = new("ip", ["netns", "exec", ns, "/usr/bin/python3", "-c", Vm, uid.ToString(System.Globalization.CultureInfo.InvariantCulture)])
            {
                RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true,
            },
        };
        vm.Start();
        return vm;
    }

    [Fact]
    public async Task TheVmTap_HasItsFlags_TheOwnerAttachesAsQemuDoes_AndReadsAFrameWithItsVirtioNetHeader()
    {
        var topology = SandboxedEngine.Loaded(TopologyLoader.LoadFile(Path.Combine(Topologies.RepositoryRoot(), "topologies", "vm-bridge.yaml")));
        _lab.Up(topology);
        string host = _lab.Ns("host");

        var tap = Oracle.Link(host, "vm0")!;
        (tap.Kind, tap.Master).Should().Be(("tun", "br0"));
        tap.InfoData("type")!.Value.GetString().Should().Be("tap");
        tap.InfoData("vnet_hdr")!.Value.GetBoolean().Should().BeTrue();
        tap.InfoData("multi_queue")!.Value.GetBoolean().Should().BeTrue();
        UidOf(tap.InfoData("user")!.Value).Should().Be(Owner);

        using (var stranger = StartVm(host, Owner + 1))
        {
            (await stranger.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(20))).Should().Be("refused 1",
                "another uid may not attach (EPERM)");
        }
        using var vm = StartVm(host, Owner);
        try
        {
            (await vm.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(20))).Should().Be("attached",
                "uid 1000 owns the tap and may attach to it: " + await ReadErrorSoon(vm));
            _lab.Engine.Plan(topology, _lab.Options).HasChanges.Should().BeFalse("the attached program's queue flags are its own choice");

            await vm.StandardInput.WriteLineAsync();
            await vm.StandardInput.FlushAsync();
            ProcessRunner.Run("ip", ["netns", "exec", _lab.Ns("lan1"), "ping", "-c", "2", "-W", "1", "192.168.122.99"], TimeSpan.FromSeconds(10));
            string? frame = await vm.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(20));
            frame.Should().NotBeNull();
            // struct virtio_net_hdr (10 bytes: no offload for an ARP request), then the Ethernet frame: broadcast, ARP.
            frame![..20].Should().Be("00000000000000000000");
            frame[20..32].Should().Be("ffffffffffff");
            frame[44..48].Should().Be("0806");
        }
        finally
        {
            if (!vm.HasExited) vm.Kill(entireProcessTree: true);
        }

        _lab.Engine.Down(topology, _lab.Options).Status.Should().Be(DownStatus.Removed);
    }

    /// <summary>iproute2 prints a tap's user by name when the machine has one for the uid, else as a number.</summary>
    private static int UidOf(JsonElement user) => user.ValueKind == JsonValueKind.Number
        ? user.GetInt32()
        : int.Parse(ProcessRunner.RunChecked("id", "-u", user.GetString()!).Trim(), System.Globalization.CultureInfo.InvariantCulture);

    private static async Task<string> ReadErrorSoon(System.Diagnostics.Process process)
    {
        try
        {
            return await process.StandardError.ReadToEndAsync().WaitAsync(TimeSpan.FromMilliseconds(200));
        }
        catch (TimeoutException)
        {
            return "";
        }
    }
}
