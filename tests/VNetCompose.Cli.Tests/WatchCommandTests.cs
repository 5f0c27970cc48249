using System.Diagnostics;
using System.Globalization;
using System.Threading.Channels;
using VNetCompose.Core;
using VNetCompose.Core.Planning;
using VNetCompose.Core.Rendering;
using VNetCompose.Core.Watching;
using VNetCompose.Kernel;
using VNetCompose.TestSupport;

namespace VNetCompose.Cli.Tests;

/// <summary><c>vnet watch</c> as a user runs it, on the real kernel, sandboxed: output as it happens, a clean end on SIGINT and
/// SIGTERM, one-line usage errors.</summary>
public sealed class WatchCommandTests : IDisposable
{
    private static readonly string TopologyFile = Vnet.Topology("two-namespaces.yaml");
    private readonly Vnet _vnet = new();
    private readonly SandboxNamespaces _sandbox = new();

    public void Dispose()
    {
        _sandbox.Dispose();
        _vnet.Dispose();
    }

    private string[] Sandboxed(params string[] arguments) => [.. arguments, "--host-netns", _sandbox.Name("host"), "--prefix", _sandbox.Prefix];

    /// <summary>A running vnet whose stdout lines are read as they come.</summary>
    private sealed class Running : IDisposable
    {
        private readonly Process _process;
        private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();
        private readonly Task<string> _stderr;

        public Running(Vnet vnet, string[] arguments)
        {
            _process = vnet.Start(arguments);
            _process.StandardInput.Close();
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
                throw new Xunit.Sdk.XunitException($"no line with '{text}'; seen:\n{string.Join('\n', seen)}\nstderr: "
                    + (_stderr.IsCompleted ? _stderr.Result : "(still running)"));
            }
        }

        /// <summary>Sends the signal and returns the exit code and what was left on stdout and stderr.</summary>
        public async Task<(int ExitCode, string Stdout, string Stderr)> Signal(string signal)
        {
            ProcessRunner.RunChecked("kill", "-" + signal, _process.Id.ToString(CultureInfo.InvariantCulture));
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

    [Fact]
    public async Task WatchJson_ReportsTheStatusThenEachDriftAsItHappens_AndSigintEndsItWithExitZero()
    {
        _vnet.Run(Sandboxed("up", TopologyFile, "-q")).EnsureSuccess();
        string net0 = _sandbox.Name("net0");
        using var watch = new Running(_vnet, Sandboxed("watch", TopologyFile, "-o", "json"));

        var started = OutputSchemas.Validate(await watch.LineContaining("\"event\":\"started\""), "watch").RootElement;
        started.GetProperty("ok").GetBoolean().Should().BeTrue();
        started.GetProperty("instance").GetString().Should().Be(_sandbox.Prefix + "two-namespaces");

        ProcessRunner.RunChecked("ip", "-n", net0, "link", "set", "veth0", "mtu", "1280");
        var drift = OutputSchemas.Validate(await watch.LineContaining("\"event\":\"drift\""), "watch").RootElement;
        drift.GetProperty("lines")[0].GetProperty("text").GetString().Should().Be($"drifted link {net0}/veth0: mtu 1500 -> 1280");
        drift.GetProperty("warnings").GetArrayLength().Should().Be(0);

        var (exitCode, _, stderr) = await watch.Signal("INT");
        exitCode.Should().Be(0, stderr);
        stderr.Should().BeEmpty();
    }

    [Fact]
    public async Task WatchByName_ReadsTheTopologyFromTheStateFile_HealsTheDrift_AndSigtermEndsIt()
    {
        _vnet.Run(Sandboxed("up", TopologyFile, "-q")).EnsureSuccess();
        string net1 = _sandbox.Name("net1");
        using var watch = new Running(_vnet, ["watch", "--name", _sandbox.Prefix + "two-namespaces", "--heal"]);
        (await watch.LineContaining("watching")).Should().EndWith($"watching {_sandbox.Prefix}two-namespaces: 9 objects in 3 namespaces");
        await watch.LineContaining(" ok");

        ProcessRunner.RunChecked("ip", "-n", net1, "addr", "del", "10.0.1.2/24", "dev", "veth1");
        (await watch.LineContaining("missing")).Should().EndWith($" missing address 10.0.1.2/24 on {net1}/veth1");
        (await watch.LineContaining("healed")).Should().Contain(" healed 1 change with 1 kernel write in ");
        await watch.LineContaining(" ok");

        (await watch.Signal("TERM")).ExitCode.Should().Be(0);
        Oracle.Addresses(net1).Should().Contain(x => x.Address.ToString() == "10.0.1.2");
    }

    [Fact]
    public void WatchSchema_DescribesEveryEvent_AndRejectsWhatItDoesNotDescribe()
    {
        var at = DateTimeOffset.UnixEpoch;
        var line = new DriftLine(ObjectState.Missing, new NamespaceObject("net0"), "");
        var notice = new DriftLine(ObjectState.Foreign, new LinkObject(NetnsId.Named("net1"), "x"), "appeared", IsNotice: true);
        string[] events =
        [
            WatchRenderer.Json(new DriftReported(at, [line, notice], Ok: false, TimeSpan.FromMilliseconds(7.5))),
            WatchRenderer.Json(new ChangedByVnet(at, "heal", 1, [], Ok: true)),
            WatchRenderer.Json(new ChangedByVnet(at, "down", 9, [line], Ok: false)),
            WatchRenderer.Json(new Healed(at, 2, 3, TimeSpan.FromMilliseconds(12), [], Ok: true)),
            WatchRenderer.Json(new NotHealed(at, "conflict (never forced): x")),
        ];
        foreach (string json in events) OutputSchemas.Validate(json, "watch");
        OutputSchemas.IsValid(events[0].Replace("\"latency_ms\"", "\"latency\"", StringComparison.Ordinal), "watch").Should().BeFalse("a drift has latency_ms");
        OutputSchemas.IsValid(events[1].Replace("\"heal\"", "\"status\"", StringComparison.Ordinal), "watch").Should().BeFalse("vnet commands are up, down, heal");
        OutputSchemas.IsValid(events[4].Replace("\"not_healed\"", "\"healed\"", StringComparison.Ordinal), "watch").Should().BeFalse("healed has its counts");
        OutputSchemas.IsValid(events[3].Replace("\"changes\"", "\"reason\":\"x\",\"changes\"", StringComparison.Ordinal), "watch").Should().BeFalse("no field of another event");
    }

    [Theory]
    [InlineData("watch", "error: give either FILE or --name INSTANCE (see 'vnet watch --help')")]
    [InlineData("watch x.yaml --name x", "error: give either FILE or --name INSTANCE (see 'vnet watch --help')")]
    [InlineData("watch --name", "error: required argument missing for option: '--name' (see 'vnet watch --help')")]
    [InlineData("watch x.yaml -o xml", "error: argument 'xml' not recognized. Must be one of: 'text', 'json' (see 'vnet watch --help')")]
    public void UsageMistakes_AreOneLineAndExitOne(string command, string message)
    {
        var result = _vnet.Run(command.Split(' '));
        (result.ExitCode, result.StandardError, result.StandardOutput).Should().Be((1, message + "\n", ""));
    }
}
