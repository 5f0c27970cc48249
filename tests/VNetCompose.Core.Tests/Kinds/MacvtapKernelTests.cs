using VNetCompose.Core.Rendering;
using VNetCompose.Model;
using VNetCompose.TestSupport;

namespace VNetCompose.Core.Tests.Kinds;

/// <summary>
/// macvtap on the real kernel: /dev/tapN made usable by its owner (the kernel has no owner attribute: vnet sets the
/// node's), who reads a frame a ping produced; another user cannot open it.
/// </summary>
public sealed class MacvtapKernelTests : IDisposable
{
    private const int Owner = 4242;
    private readonly SandboxedEngine _lab = new();

    public void Dispose() => _lab.Dispose();

    private const string Yaml = """
        version: 1
        name: vtap
        namespaces: { lan: {} }
        veths:
          - a: { name: up0 }
            b: { namespace: lan, name: eth0, addresses: [192.0.2.1/24] }
        links:
          vtap0: { kind: macvtap, parent: up0, mode: bridge, owner: 4242 }
        """;

    /// <summary>The first bytes of one frame read from the device as <paramref name="uid"/>, as hex; null when it could not open it.</summary>
    private static string? ReadFrameAs(int uid, string device)
    {
        var read = ProcessRunner.Run("sh", ["-c",
            $"timeout 10 setpriv --reuid={uid} --regid={uid} --clear-groups dd if={device} bs=65536 count=1 status=none | od -An -tx1 -N32 -v"],
            TimeSpan.FromSeconds(20));
        return read.StandardOutput.Trim().Length == 0 ? null : string.Join("", read.StandardOutput.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task TheOwnerReadsAFrameFromTheDevice_AnotherUserCannotOpenIt_AndOwnerDriftIsRepaired()
    {
        var topology = SandboxedEngine.Loaded(TopologyLoader.LoadText(Yaml, "vtap.yaml"));
        _lab.Up(topology);
        string host = _lab.Ns("host"), lan = _lab.Ns("lan");
        var vtap = Oracle.Link(host, "vtap0")!;
        vtap.Kind.Should().Be("macvtap");
        vtap.InfoData("mode")!.Value.GetString().Should().Be("bridge");
        string device = $"/dev/tap{vtap.Index}";
        ProcessRunner.RunChecked("stat", "-c", "%u %a", device).Trim().Should().Be($"{Owner} 600");

        // A ping from the LAN floods an ARP request, which every macvtap of the parent in bridge mode receives.
        var reading = Task.Run(() => ReadFrameAs(Owner, device));
        await Task.Delay(300);
        ProcessRunner.Run("ip", ["netns", "exec", lan, "ping", "-c", "3", "-W", "1", "192.0.2.99"], TimeSpan.FromSeconds(10));
        string? frame = await reading;
        frame.Should().NotBeNull("the owner can open the device and a frame arrives");
        // The device gives a 10-byte virtio-net header (IFF_VNET_HDR is on by default), then the frame: broadcast destination.
        frame![20..32].Should().Be("ffffffffffff");
        ReadFrameAs(Owner + 1, device).Should().BeNull("the node is the owner's alone");

        ProcessRunner.RunChecked("chown", "0", device);
        PlanTextRenderer.Render(_lab.Engine.Plan(topology, _lab.Options)).Should().Be($"""
            ~ link {host}/vtap0
                owner: 0 -> {Owner}

            Plan: 0 to create, 1 to change, 0 to delete.

            """.Replace("\r", ""));
        _lab.Up(topology);
        ProcessRunner.RunChecked("stat", "-c", "%u", device).Trim().Should().Be($"{Owner}");

        _lab.Engine.Down(topology, _lab.Options).Status.Should().Be(DownStatus.Removed);
        // The namespace's links are freed by the kernel's asynchronous namespace cleanup, the node with them.
        for (int i = 0; i < 50 && File.Exists(device); i++) await Task.Delay(100);
        File.Exists(device).Should().BeFalse("the device node goes with the link");
    }
}
