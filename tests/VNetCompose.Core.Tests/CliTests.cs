using System.Text.Json;
using VNetCompose.TestSupport;

namespace VNetCompose.Core.Tests;

/// <summary>
/// The <c>vnet</c> program as a user runs it, on the real kernel, sandboxed: exit codes, output, and a
/// state directory of its own (<c>VNET_STATE_DIR</c>).
/// </summary>
public sealed class CliTests : IDisposable
{
    private const string Topology = """
        version: 1
        name: cli
        namespaces:
          a: {}
          b:
            routes:
              - to: 10.9.0.0/16
                via: 10.0.1.1
        veths:
          - a: { namespace: a, name: eth0, addresses: [10.0.1.1/24], mtu: 1500 }
            b: { namespace: b, name: eth0, addresses: [10.0.1.2/24] }
        """;

    private readonly SandboxNamespaces _sandbox = new();
    private readonly TempStateDir _state = new();
    private readonly string _file;

    public CliTests()
    {
        _file = Path.Combine(_state.Path, "cli.yaml");
        File.WriteAllText(_file, Topology);
    }

    public void Dispose()
    {
        _sandbox.Dispose();
        _state.Dispose();
    }

    private CommandResult Vnet(params string[] arguments)
    {
        var psi = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "vnet.dll"));
        foreach (var a in arguments) psi.ArgumentList.Add(a);
        psi.Environment["VNET_STATE_DIR"] = _state.Path;
        using var process = System.Diagnostics.Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit(TimeSpan.FromSeconds(60)).Should().BeTrue();
        return new CommandResult("vnet " + string.Join(' ', arguments), process.ExitCode, stdout.Result, stderr.Result);
    }

    private string[] Sandboxed(params string[] arguments) => [.. arguments, "--host-netns", _sandbox.Name("host"), "--prefix", _sandbox.Prefix];

    [Fact]
    public void PlanUpStatusDown_HaveTheDocumentedExitCodesAndOutput()
    {
        string a = _sandbox.Name("a"), b = _sandbox.Name("b");
        string instance = _sandbox.Prefix + "cli";

        var plan = Vnet(Sandboxed("plan", _file, "--detailed-exitcode"));
        plan.ExitCode.Should().Be(2, plan.StandardError);
        plan.StandardOutput.Should().EndWith("Plan: 7 to create, 0 to change, 0 to delete.\n");

        var up = Vnet(Sandboxed("up", _file, "-q"));
        up.ExitCode.Should().Be(0, up.StandardError);
        up.StandardOutput.Should().StartWith($"up: {instance}: applied 7 changes with ");

        var again = Vnet(Sandboxed("up", _file));
        again.ExitCode.Should().Be(0);
        again.StandardOutput.Should().Contain("No changes: the kernel matches the topology.\n")
            .And.Contain($"up: {instance} is up to date: 0 kernel writes");
        Vnet(Sandboxed("plan", _file, "--detailed-exitcode")).ExitCode.Should().Be(0);
        Vnet(Sandboxed("status", _file)).ExitCode.Should().Be(0);

        ProcessRunner.RunChecked("ip", "-n", a, "link", "set", "eth0", "mtu", "1400");
        ProcessRunner.RunChecked("ip", "-n", b, "route", "del", "10.9.0.0/16");
        var drift = Vnet(Sandboxed("plan", _file, "--detailed-exitcode", "-o", "json"));
        drift.ExitCode.Should().Be(2);
        using (var json = JsonDocument.Parse(drift.StandardOutput))
        {
            var changes = json.RootElement.GetProperty("changes").EnumerateArray()
                .Select(c => $"{c.GetProperty("action").GetString()} {c.GetProperty("object").GetString()}").ToList();
            changes.Should().Equal($"change link {a}/eth0", $"create route 10.9.0.0/16 in {b}");
        }
        var status = Vnet(Sandboxed("status", _file));
        status.ExitCode.Should().Be(2);
        status.StandardOutput.Should().MatchRegex($@"veth {a}/eth0 <-> {b}/eth0 +drifted +mtu 1400 -> 1500\n");
        status.StandardOutput.Should().MatchRegex($@"route 10.9.0.0/16 in {b} +missing");

        Vnet(Sandboxed("up", _file, "-q")).ExitCode.Should().Be(0);
        Vnet(Sandboxed("plan", _file, "--detailed-exitcode")).ExitCode.Should().Be(0);

        var ls = Vnet("ls");
        ls.ExitCode.Should().Be(0);
        ls.StandardOutput.Should().Contain(instance);

        var statusByName = Vnet("status", "--name", instance);
        statusByName.ExitCode.Should().Be(0);
        statusByName.StandardOutput.Should().Contain($"namespace {a}");

        var down = Vnet("down", "--name", instance);
        down.ExitCode.Should().Be(0, down.StandardError);
        down.StandardOutput.Should().EndWith($"down: {instance} removed with 3 kernel writes ({ExtractMs(down.StandardOutput)} ms).\n");
        _sandbox.Existing().Should().BeEmpty();
        Vnet("ls").StandardOutput.Should().NotContain(instance);
    }

    private static string ExtractMs(string output) =>
        System.Text.RegularExpressions.Regex.Match(output, @"\((\d+) ms\)").Groups[1].Value;

    [Fact]
    public void InvalidTopology_ExitsOneWithFileLineColumn()
    {
        File.WriteAllText(_file, "version: 1\nname: cli\nveths: [ { a: { name: x } } ]\n");
        var plan = Vnet(Sandboxed("plan", _file, "--detailed-exitcode"));
        plan.ExitCode.Should().Be(1);
        plan.StandardError.Should().StartWith(_file + ":3:");
    }

    [Fact]
    public void DownNeedsFileOrName_AndUnknownInstanceIsAnError()
    {
        Vnet("down").ExitCode.Should().Be(1);
        var unknown = Vnet("down", "--name", _sandbox.Prefix + "nothing");
        unknown.ExitCode.Should().Be(1);
        unknown.StandardError.Should().StartWith($"error: no instance {_sandbox.Prefix}nothing is known");
    }

    [Fact]
    public void ConflictWithAForeignLink_RefusesWithExitOneAndTouchesNothing()
    {
        string a = _sandbox.Create("a");
        ProcessRunner.RunChecked("ip", "-n", a, "link", "add", "eth0", "type", "bridge");
        var up = Vnet(Sandboxed("up", _file));
        up.ExitCode.Should().Be(1);
        up.StandardOutput.Should().Contain($"! link {a}/eth0: the name is held by a link vnet did not create");
        up.StandardError.Should().Contain("up refused");
        _sandbox.Existing().Should().Equal(a);
    }
}
