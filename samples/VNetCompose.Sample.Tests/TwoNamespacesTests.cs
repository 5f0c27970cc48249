using System.Net;
using System.Net.Sockets;
using System.Text;
using VNetCompose.Xunit;
using Xunit;

namespace VNetCompose.Sample.Tests;

/// <summary>The lab for the tests of this class: net0 (10.0.1.1) and net1 (10.0.1.2) on a veth pair.</summary>
public sealed class TwoNamespacesLab() : LabClassFixture("topologies/two-namespaces.yaml");

public sealed class TwoNamespacesTests(TwoNamespacesLab fixture) : IClassFixture<TwoNamespacesLab>
{
    private static readonly IPAddress Net1 = IPAddress.Parse("10.0.1.2");

    [Fact]
    public async Task Net0_ConnectsToAListenerInNet1_InProcess()
    {
        var ct = TestContext.Current.CancellationToken;
        using var listener = fixture.Lab["net1"].CreateSocket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(Net1, 5000));
        listener.Listen();

        using var client = fixture.Lab["net0"].CreateSocket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(new IPEndPoint(Net1, 5000), ct);
        using var server = await listener.AcceptAsync(ct);
        await client.SendAsync(Encoding.ASCII.GetBytes("hello"), ct);

        var buffer = new byte[5];
        int received = await server.ReceiveAsync(buffer, ct);
        Assert.Equal("hello", Encoding.ASCII.GetString(buffer, 0, received));
        Assert.Equal(IPAddress.Parse("10.0.1.1"), ((IPEndPoint)server.RemoteEndPoint!).Address);
    }

    [Fact]
    public async Task Net0_PingsNet1()
    {
        var ping = await fixture.Lab["net0"].ExecAsync(["ping", "-c", "1", "10.0.1.2"], TestContext.Current.CancellationToken);
        TestContext.Current.TestOutputHelper?.WriteLine(ping.StandardOutput);
        Assert.Equal(0, ping.ExitCode);
    }

    /// <summary>
    /// For the leak check of the CI (packaging.sh): with SAMPLE_HANG_FILE set, writes the lab's prefix there and
    /// waits to be killed in the middle of the test; skipped otherwise.
    /// </summary>
    [Fact]
    public async Task HangsUntilKilled_WhenAsked()
    {
        string? file = Environment.GetEnvironmentVariable("SAMPLE_HANG_FILE");
        Assert.SkipWhen(string.IsNullOrEmpty(file), "only for the kill test of packaging.sh (SAMPLE_HANG_FILE)");
        await File.WriteAllTextAsync(file!, fixture.Lab.Options.Prefix, TestContext.Current.CancellationToken);
        await Task.Delay(Timeout.Infinite, TestContext.Current.CancellationToken);
    }
}
