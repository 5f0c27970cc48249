using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Threading.Channels;
using VNetCompose.TestSupport;

namespace VNetCompose.Core.Tests;

/// <summary><c>vnet watch</c> as a user runs it, on the real kernel, sandboxed: output as it happens, and a clean end on SIGINT/SIGTERM.</summary>
public sealed class WatchCliTests : IDisposable
{
    private const string Topology = """
        version: 1
        name: cliwatch
        namespaces:
          a: {}
          b: {}
        veths:
          - a: { namespace: a, name: eth0, addresses: [10.0.1.1/24], mtu: 1500 }
            b: { namespace: b, name: eth0, addresses: [10.0.1.2/24] }
        """;

    private readonly SandboxNamespaces _sandbox = new();
    private readonly TempStateDir _state = new();
    private readonly string _file;

    public WatchCliTests()
    {
        _file = Path.Combine(_state.Path, "cliwatch.yaml");
        File.WriteAllText(_file, Topology);
    }

    public void Dispose()
    {
        _sandbox.Dispose();
        _state.Dispose();
    }

    private string[] Sandboxed(params string[] arguments) => [.. arguments, "--host-netns", _sandbox.Name("host"), "--prefix", _sandbox.Prefix];

    /// <summary>A running vnet whose stdout lines are read as they come.</summary>
    private sealed class Running : IDisposable
    {
        private readonly Process _process;
        private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();
        private readonly Task<string> _stderr;

        public Running(string stateDirectory, string[] arguments)
        {
            var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
            psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "vnet.dll"));
            foreach (var a in arguments) psi.ArgumentList.Add(a);
            psi.Environment["VNET_STATE_DIR"] = stateDirectory;
            _process = Process.Start(psi)!;
            _stderr = _process.StandardError.ReadToEndAsync();
            _ = Task.Run(async () =>
            {
                while (await _process.StandardOutput.ReadLineAsync() is { } line) await _lines.Writer.WriteAsync(line);
                _lines.Writer.Complete();
            });
        }

        public async Task<string> LineContaining(string text)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            var seen = new List<string>();
            try
            {
                while (true)
                {
                    string line = await _lines.Reader.ReadAsync(timeout.Token);
                    seen.Add(line);
                    if (line.Contains(text, StringComparison.Ordinal)) return line;
                }
            }
            catch (Exception e) when (e is OperationCanceledException or ChannelClosedException)
            {
                throw new Xunit.Sdk.XunitException($"no line with '{text}'; seen:\n{string.Join('\n', seen)}\nstderr: {StderrSoFar()}");
            }
        }

        private string StderrSoFar() => _stderr.IsCompleted ? _stderr.Result : "(still running)";

        /// <summary>Sends the signal and returns the exit code and what was left on stdout and stderr.</summary>
        public async Task<(int ExitCode, string Stdout, string Stderr)> Signal(string signal)
        {
            ProcessRunner.RunChecked("kill", "-" + signal, _process.Id.ToString(CultureInfo.InvariantCulture));
            return await Exit();
        }

        public async Task<(int ExitCode, string Stdout, string Stderr)> Exit()
        {
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
            var rest = new List<string>();
            await foreach (var line in _lines.Reader.ReadAllAsync()) rest.Add(line);
            return (_process.ExitCode, string.Join('\n', rest), await _stderr);
        }

        public void Dispose()
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            _process.Dispose();
        }
    }

    private CommandResult Vnet(params string[] arguments)
    {
        using var running = new Running(_state.Path, arguments);
        var (exitCode, stdout, stderr) = running.Exit().GetAwaiter().GetResult();
        return new CommandResult("vnet " + string.Join(' ', arguments), exitCode, stdout, stderr);
    }

    [Fact]
    public async Task WatchJson_ReportsTheStatusThenEachDriftAsItHappens_AndSigintEndsItWithExitZero()
    {
        Vnet(Sandboxed("up", _file, "-q")).ExitCode.Should().Be(0);
        string a = _sandbox.Name("a");
        using var watch = new Running(_state.Path, Sandboxed("watch", _file, "-o", "json"));

        var started = JsonDocument.Parse(await watch.LineContaining("\"event\":\"started\"")).RootElement;
        started.GetProperty("ok").GetBoolean().Should().BeTrue();
        started.GetProperty("instance").GetString().Should().Be(_sandbox.Prefix + "cliwatch");

        ProcessRunner.RunChecked("ip", "-n", a, "link", "set", "eth0", "mtu", "1280");
        var drift = JsonDocument.Parse(await watch.LineContaining("\"event\":\"drift\"")).RootElement;
        drift.GetProperty("lines")[0].GetProperty("text").GetString().Should().Be($"drifted link {a}/eth0: mtu 1500 -> 1280");

        var (exitCode, _, stderr) = await watch.Signal("INT");
        exitCode.Should().Be(0, stderr);
        stderr.Should().BeEmpty();
    }

    [Fact]
    public async Task WatchByName_ReadsTheTopologyFromTheStateFile_HealsTheDrift_AndSigtermEndsIt()
    {
        Vnet(Sandboxed("up", _file, "-q")).ExitCode.Should().Be(0);
        string b = _sandbox.Name("b");
        using var watch = new Running(_state.Path, ["watch", "--name", _sandbox.Prefix + "cliwatch", "--heal"]);
        (await watch.LineContaining("watching")).Should().EndWith($"watching {_sandbox.Prefix}cliwatch: 9 objects in 3 namespaces");
        await watch.LineContaining(" ok");

        ProcessRunner.RunChecked("ip", "-n", b, "addr", "del", "10.0.1.2/24", "dev", "eth0");
        (await watch.LineContaining("missing")).Should().EndWith($" missing address 10.0.1.2/24 on {b}/eth0");
        (await watch.LineContaining("healed")).Should().Contain(" healed 1 change with 1 kernel write in ");
        await watch.LineContaining(" ok");

        (await watch.Signal("TERM")).ExitCode.Should().Be(0);
        Oracle.Addresses(b).Should().Contain(x => x.Address.ToString() == "10.0.1.2");
    }

    [Fact]
    public void Watch_WithoutFileOrName_IsAUsageError()
    {
        var result = Vnet("watch");
        result.ExitCode.Should().Be(1);
        result.StandardError.Should().Contain("give either FILE or --name INSTANCE");
    }
}
