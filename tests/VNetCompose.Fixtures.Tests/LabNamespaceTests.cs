using System.ComponentModel;
using System.Net;
using System.Net.Sockets;
using System.Text;
using VNetCompose.Core;
using VNetCompose.Fixtures.Tests.Support;
using VNetCompose.Kernel;
using VNetCompose.TestSupport;

namespace VNetCompose.Fixtures.Tests;

/// <summary>
/// Sockets, code and programs inside the namespaces of one isolated two-namespaces lab (net0 10.0.1.1, net1
/// 10.0.1.2), brought up once for the class. The oracles are the kernel's: an address can only be bound in the
/// namespace that holds it, a peer's source address, <c>/run/netns</c> inodes, <c>ip</c> run by hand.
/// </summary>
public sealed class LabNamespaceTests(LabNamespaceTests.Lab fixture) : IClassFixture<LabNamespaceTests.Lab>
{
    private static readonly IPAddress Net0 = IPAddress.Parse("10.0.1.1");
    private static readonly IPAddress Net1 = IPAddress.Parse("10.0.1.2");

    /// <summary>The lab of the class; real kernel only.</summary>
    public sealed class Lab : IAsyncLifetime
    {
        public LabFixture? Fixture { get; private set; }

        public async ValueTask InitializeAsync()
        {
            if (Root.IsRoot) Fixture = await LabFixture.UpAsync(Labs.TwoNamespacesPath, LabOptions.Isolated("fxns"));
        }

        public async ValueTask DisposeAsync()
        {
            if (Fixture is not null) await Fixture.DisposeAsync();
        }
    }

    private LabFixture L => fixture.Fixture!;

    [RootFact]
    public async Task Tcp_FromNet0ToAListenerInNet1_InProcess()
    {
        using var listener = L["net1"].CreateSocket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(Net1, 7000)); // only possible inside net1, which holds 10.0.1.2
        listener.Listen();
        using var client = L["net0"].CreateSocket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var accepting = listener.AcceptAsync(TestContext.Current.CancellationToken);
        await client.ConnectAsync(new IPEndPoint(Net1, 7000), TestContext.Current.CancellationToken);
        using var server = await accepting;

        ((IPEndPoint)server.RemoteEndPoint!).Address.Should().Be(Net0, "the connection comes from net0's veth");
        await client.SendAsync("ping"u8.ToArray(), TestContext.Current.CancellationToken);
        var buffer = new byte[16];
        int n = await server.ReceiveAsync(buffer, TestContext.Current.CancellationToken);
        await server.SendAsync(buffer.AsMemory(0, n), TestContext.Current.CancellationToken);
        n = await client.ReceiveAsync(buffer, TestContext.Current.CancellationToken);
        Encoding.ASCII.GetString(buffer, 0, n).Should().Be("ping");
    }

    [RootFact]
    public void Tcp_SynchronousCallsFromAnyThread_StayInTheNamespace()
    {
        using var listener = L["net1"].CreateSocket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Any, 7001));
        listener.Listen();
        using var client = L["net0"].CreateSocket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        client.Connect(Net1, 7001);
        using var server = listener.Accept();
        ((IPEndPoint)server.LocalEndPoint!).Address.Should().Be(Net1);
    }

    [RootFact]
    public async Task Udp_FromNet0ToNet1_InProcess()
    {
        using var receiver = L["net1"].CreateSocket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        receiver.Bind(new IPEndPoint(Net1, 7002));
        using var sender = L["net0"].CreateSocket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        var buffer = new byte[64];
        var receiving = receiver.ReceiveFromAsync(buffer, new IPEndPoint(IPAddress.Any, 0), TestContext.Current.CancellationToken);
        await sender.SendToAsync("datagram"u8.ToArray(), new IPEndPoint(Net1, 7002), TestContext.Current.CancellationToken);
        var received = await receiving.AsTask().WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        Encoding.ASCII.GetString(buffer, 0, received.ReceivedBytes).Should().Be("datagram");
        ((IPEndPoint)received.RemoteEndPoint).Address.Should().Be(Net0);
    }

    [RootFact]
    public void Socket_InTheProcessOwnNamespace_CannotBindALabAddress()
    {
        // The control for the tests above: outside the lab, 10.0.1.2 is nobody's address.
        using var outside = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var bind = () => outside.Bind(new IPEndPoint(Net1, 7003));
        bind.Should().Throw<SocketException>().Which.SocketErrorCode.Should().Be(SocketError.AddressNotAvailable);
    }

    [RootFact]
    public async Task RunAsync_ReturnsTheValue_ComputedInsideTheNamespace()
    {
        string inode = new FileInfo("/proc/thread-self/ns/net").LinkTarget!;
        var inside = await L["net0"].RunAsync(() => (Namespace: new FileInfo("/proc/thread-self/ns/net").LinkTarget!, Interfaces: Labs.InterfaceNames()));

        inside.Namespace.Should().Be($"net:[{Inode($"/run/netns/{L["net0"].Name}")}]").And.NotBe(inode);
        inside.Interfaces.Should().Equal("lo", "veth0");
        new FileInfo("/proc/thread-self/ns/net").LinkTarget.Should().Be(inode, "the caller's thread never moved");
    }

    [RootFact]
    public void Run_IsSynchronous_AndEachNamespaceSeesItsOwnLinks()
    {
        L["net1"].Run(Labs.InterfaceNames).Should().Equal("lo", "veth1");
        L["host"].Run(Labs.InterfaceNames).Should().Equal(["lo"], "the sandbox standing in for host has only loopback");
    }

    [RootFact]
    public async Task RunAsync_PropagatesTheException()
    {
        var act = () => L["net0"].RunAsync<int>(() => throw new InvalidDataException("thrown inside net0"));
        (await act.Should().ThrowAsync<InvalidDataException>()).WithMessage("thrown inside net0");
        var sync = () => L["net1"].Run<int>(() => throw new ArithmeticException("sync"));
        sync.Should().Throw<ArithmeticException>().WithMessage("sync");
    }

    [RootFact]
    public async Task RunAsync_CallsRunSideBySide_EachOnAThreadOfItsOwn()
    {
        using var gate = new Barrier(2);
        var a = L["net0"].RunAsync(() => gate.SignalAndWait(TimeSpan.FromSeconds(10)));
        var b = L["net1"].RunAsync(() => gate.SignalAndWait(TimeSpan.FromSeconds(10)));
        (await Task.WhenAll(a, b)).Should().Equal(true, true);
    }

    [RootFact]
    public async Task ExecAsync_RunsTheProgramInsideTheNamespace()
    {
        var ip = await L["net0"].ExecAsync(["ip", "-o", "-4", "addr", "show", "dev", "veth0"], TestContext.Current.CancellationToken);
        ip.ExitCode.Should().Be(0, ip.StandardError);
        ip.StandardOutput.Should().Contain("inet 10.0.1.1/24");

        var ping = await L["net0"].ExecAsync(["ping", "-c", "1", "-W", "5", "10.0.1.2"], TestContext.Current.CancellationToken);
        ping.ExitCode.Should().Be(0, ping.StandardOutput + ping.StandardError);
        ping.StandardOutput.Should().Contain("1 received");
    }

    [RootFact]
    public async Task ExecAsync_SeesTheNamespacesOwnSysfs_AsIpNetnsExecDoes()
    {
        var ls = await L["net0"].ExecAsync(["ls", "/sys/class/net"], TestContext.Current.CancellationToken);
        ls.ExitCode.Should().Be(0, ls.StandardError);
        ls.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).Should().Equal("lo", "veth0");
        var byIp = ProcessRunner.RunChecked("ip", "netns", "exec", L["net0"].Name, "ls", "/sys/class/net");
        ls.StandardOutput.Should().Be(byIp, "ip netns exec is the oracle");
        Directory.GetDirectories("/sys/class/net").Select(Path.GetFileName).Should().NotContain("veth0", "the test process's /sys is untouched");
    }

    [RootFact]
    public async Task ExecAsync_ReturnsExitCodeAndBothOutputs()
    {
        var result = await L["net1"].ExecAsync(["sh", "-c", "echo to-stdout; echo to-stderr >&2; read x; exit 3"], TestContext.Current.CancellationToken);
        result.Should().Be(new ExecResult(3, "to-stdout\n", "to-stderr\n"));
    }

    [RootFact]
    public async Task ExecAsync_Cancelled_KillsTheProgramAndThrows()
    {
        string marker = $"{Random.Shared.Next(100000, 999999)}.5";
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var act = () => L["net0"].ExecAsync(["sh", "-c", $"sleep {marker}; echo never"], cancel.Token);

        await act.Should().ThrowAsync<OperationCanceledException>();
        clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(10));
        (await Labs.Eventually(() => !ProcessesWithArgument(marker).Any(), TimeSpan.FromSeconds(5))).Should().BeTrue("sh and its sleep are killed");
    }

    [RootFact]
    public async Task ExecAsync_OfAMissingProgram_Throws()
    {
        var act = () => L["net0"].ExecAsync(["/nonexistent/program"], TestContext.Current.CancellationToken);
        await act.Should().ThrowAsync<Win32Exception>();
    }

    [RootFact]
    public void Indexer_NamesEachNamespaceByItsKernelName_AndRefusesUnknownOnes()
    {
        L["net0"].Name.Should().Be(L.Options.Prefix + "net0");
        L["host"].Name.Should().Be(L.Options.Prefix + "host");
        var act = () => L["net7"];
        act.Should().Throw<ArgumentException>().WithMessage("*declares no namespace 'net7'*net0, net1, host*");
    }

    [RootFact]
    public void CreateSocket_InANamespaceThatIsGone_SaysSo()
    {
        var act = () => Netlink.NamespaceExecution.RunOnNamespaceThread("fx-no-such-namespace", () => 1);
        act.Should().Throw<KernelException>().WithMessage("*there is no namespace named fx-no-such-namespace*");
    }

    /// <summary>The inode of a namespace's bind mount, by stat(1): the namespace's identity.</summary>
    private static string Inode(string path) => TestSupport.ProcessRunner.RunChecked("stat", "-L", "-c", "%i", path).Trim();

    private static IEnumerable<int> ProcessesWithArgument(string argument) =>
        Directory.EnumerateDirectories("/proc").Select(Path.GetFileName).Where(n => n!.All(char.IsAsciiDigit))
            .Where(pid =>
            {
                try
                {
                    return File.ReadAllText($"/proc/{pid}/cmdline").Split('\0').Contains(argument);
                }
                catch (IOException)
                {
                    return false;
                }
            })
            .Select(pid => int.Parse(pid!, System.Globalization.CultureInfo.InvariantCulture));
}

/// <summary>The TCP echo of the README's "The fixture API", as written there.</summary>
public sealed class ReadmeEchoTests
{
    [RootFact]
    public async Task TcpEcho_AsTheReadmeWritesIt()
    {
        // The README's Program.cs, its label and file path aside, with its output checked.
        await using var lab = await LabFixture.UpAsync(Labs.TwoNamespacesPath, LabOptions.Isolated("fxreadme"));

        // A TCP echo server in net1 and a client in net0, both in this process.
        using var listener = lab["net1"].CreateSocket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Any, 7));
        listener.Listen();
        var echo = Task.Run(async () => { using var s = await listener.AcceptAsync(); var b = new byte[64]; await s.SendAsync(b.AsMemory(0, await s.ReceiveAsync(b))); });
        using var client = lab["net0"].CreateSocket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(IPAddress.Parse("10.0.1.2"), 7);
        await client.SendAsync(Encoding.ASCII.GetBytes("hello from net0"));
        var buffer = new byte[64];
        int n = await client.ReceiveAsync(buffer);
        await echo;
        Encoding.ASCII.GetString(buffer, 0, n).Should().Be("hello from net0");

        var ip = await lab["net1"].ExecAsync(["ip", "-br", "addr", "show", "veth1"]);
        ip.StandardOutput.Should().StartWith("veth1@").And.Contain(" UP ").And.Contain("10.0.1.2/24");
    }
}
