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

    [Fact]
    public void DownByAName_ThatLeavesTheStateDirectory_IsRefused_AndAPlantedStateFileDeletesNothing()
    {
        // A state file planted next to the state directory, naming a namespace that is not vnet's.
        string victim = _sandbox.Create("victim");
        string planted = Path.Combine(Path.GetDirectoryName(_state.Path)!, $"{_sandbox.Prefix}planted.json");
        File.WriteAllText(planted, $$"""
            { "version": 1, "instance": "../{{_sandbox.Prefix}}planted", "topology": "x", "topologyPath": null, "hostNetns": null,
              "prefix": null, "namespaces": ["{{victim}}"], "createdNamespaces": ["{{victim}}"], "usesCurrentNamespace": false,
              "natNamespaces": [], "sysctls": [], "updatedAt": "2026-01-01T00:00:00Z" }
            """);
        try
        {
            var down = Vnet("down", "--name", $"../{_sandbox.Prefix}planted");
            down.ExitCode.Should().Be(1);
            down.StandardError.Should().Be($"error: --name: instance name '../{_sandbox.Prefix}planted' may contain only letters, digits, '_', '.' and '-' (see 'vnet down --help')\n");
            _sandbox.Existing().Should().Equal(victim);
            File.Exists(Path.Combine(Path.GetDirectoryName(_state.Path)!, $"{_sandbox.Prefix}planted.lock")).Should().BeFalse();
        }
        finally
        {
            File.Delete(planted);
        }
    }

    [Theory]
    [InlineData("--prefix", "../", "--prefix: prefix '../' may contain only letters, digits, '_', '.' and '-'")]
    [InlineData("--host-netns", "a\nb", "--host-netns: namespace name 'a\\nb' may contain only letters, digits, '_', '.' and '-'")]
    [InlineData("--host-netns", "", "--host-netns: namespace name must not be empty")]
    [InlineData("--prefix", "0123456789012345678901234567890123", "--prefix: prefix '0123456789012345678901234567890123' is 34 characters; at most 31 are allowed (a namespace name has at most 32)")]
    public void InvalidPlacementOptions_AreUsageErrors_ThatTouchNothing(string option, string value, string expected)
    {
        foreach (var command in new[] { "plan", "up", "down", "status" })
        {
            var result = Vnet(command, _file, option, value);
            result.ExitCode.Should().Be(1, result.StandardError);
            result.StandardError.Should().Be($"error: {expected} (see 'vnet {command} --help')\n");
        }
        _sandbox.Existing().Should().BeEmpty();
        Directory.EnumerateFileSystemEntries(_state.Path).Select(Path.GetFileName).Should().Equal("cli.yaml");
    }

    [Fact]
    public void HostNetnsEqualToAPrefixedNamespace_IsAnErrorNamingTheFileLineAndColumn()
    {
        var plan = Vnet("plan", _file, "--host-netns", _sandbox.Name("a"), "--prefix", _sandbox.Prefix);
        plan.ExitCode.Should().Be(1);
        plan.StandardError.Should().Be($"error: --host-netns {_sandbox.Name("a")} is also the name namespace 'a' ({_file}:4:3) gets with --prefix {_sandbox.Prefix}; "
            + "'host' and that namespace would be one: choose another --host-netns or --prefix\n");
        plan.StandardOutput.Should().BeEmpty();
        _sandbox.Existing().Should().BeEmpty();
    }

    [Fact]
    public void AFullStateDirectory_AfterASuccessfulApply_LeavesNoTemporary_AndSaysTheLabIsAppliedAndKept()
    {
        // A 16 KiB tmpfs as the state directory, in a private mount namespace (unshare -m), filled but one page:
        // the intent record written before applying fits, the record after applying (a second page while the
        // first is held) does not. Everything runs inside that mount namespace: its /run/netns mounts too.
        string state = Path.Combine(_state.Path, "full");
        Directory.CreateDirectory(state);
        string vnet = $"dotnet {Path.Combine(AppContext.BaseDirectory, "vnet.dll")}";
        string placement = $"--host-netns {_sandbox.Name("host")} --prefix {_sandbox.Prefix}";
        string script = $"""
            mount -t tmpfs -o size=16k,mode=0700 tmpfs {state} || exit 99
            head -c 12288 /dev/zero > {state}/fill
            {vnet} up -q {placement} {_file}; echo "up exit $?"
            echo "files: $(ls -A {state} | tr '\n' ' ')"
            echo "namespaces: $(ls /run/netns | grep -c '^{_sandbox.Prefix}')"
            rm {state}/fill
            {vnet} up -q {placement} {_file} >/dev/null; echo "again exit $?"
            {vnet} plan --detailed-exitcode {placement} {_file} >/dev/null; echo "plan exit $?"
            {vnet} down -q --name {_sandbox.Prefix}cli >/dev/null; echo "down exit $?"
            echo "files: $(ls -A {state} | tr '\n' ' ')"
            """;
        var (output, stderr) = RunScript(["unshare", "-m", "--propagation", "private", "sh", "-c", script], state);
        string instance = _sandbox.Prefix + "cli";
        output.Should().Be($"""
            up exit 1
            files: fill {instance}.json {instance}.lock 
            namespaces: 3
            again exit 0
            plan exit 0
            down exit 0
            files: 

            """, stderr);
        stderr.Should().StartWith($"error: state file {state}/{instance}.json: cannot write it: No space left on device (ENOSPC)\n"
            + $"  {instance} was applied (");
        stderr.Should().Contain(" and is kept; its state file still names everything this run created (written before applying): "
            + "free space, then 'vnet up' again records it, 'vnet down' removes it.\n");
        _sandbox.Existing().Should().BeEmpty();
    }

    private static (string Output, string Error) RunScript(string[] command, string stateDirectory)
    {
        var psi = new System.Diagnostics.ProcessStartInfo(command[0], command[1..]) { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.Environment["VNET_STATE_DIR"] = stateDirectory;
        using var process = System.Diagnostics.Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        string stderr = process.StandardError.ReadToEnd();
        process.WaitForExit(TimeSpan.FromSeconds(120)).Should().BeTrue();
        return (stdout.Result, stderr);
    }

    [Fact]
    public void Ls_ShowsABrokenStateFileAsARow_AndAStateDirectoryThatIsAFileIsAnError()
    {
        string state = Path.Combine(_state.Path, "ls");
        Directory.CreateDirectory(state);
        File.WriteAllText(Path.Combine(state, "broken.json"), """{ "version": 1, "instance": null }""");
        File.WriteAllText(Path.Combine(state, "garbage.json"), "{");
        var (ok, _) = RunScript(["dotnet", Path.Combine(AppContext.BaseDirectory, "vnet.dll"), "ls"], state);
        ok.Should().StartWith("INSTANCE  TOPOLOGY  HOST-NETNS  NAMESPACES  UPDATED  OWNER  ALIVE  FILE\n")
            .And.Contain($"broken    ?         ?           ?           ?        ?      ?      unreadable state file {state}/broken.json: not a vnet state file (")
            .And.Contain($"garbage   ?         ?           ?           ?        ?      ?      unreadable state file {state}/garbage.json: not a vnet state file (");

        string file = Path.Combine(_state.Path, "a-file");
        File.WriteAllText(file, "");
        var result = ProcessRunner.Run("env", ["VNET_STATE_DIR=" + file, "dotnet", Path.Combine(AppContext.BaseDirectory, "vnet.dll"), "ls"], ProcessRunner.DefaultTimeout);
        result.ExitCode.Should().Be(1);
        result.StandardError.Should().Be($"error: state directory {file}: is not a directory (remove it, or set VNET_STATE_DIR to a directory)\n");
    }

    /// <summary>
    /// A converged 100-host lab (101 namespaces: once 300 descriptors) is planned and torn down under a descriptor
    /// limit of 150 (this JIT-run vnet needs ~100 for the runtime itself; the native one ~15), and a soft limit of
    /// 64 below a higher hard one is raised at start.
    /// </summary>
    [Fact]
    public void AHundredHostLab_IsPlannedAndTornDown_UnderALowDescriptorLimit()
    {
        var yaml = new System.Text.StringBuilder("version: 1\nname: big\nnamespaces:\n  sw: {}\n");
        for (int i = 1; i <= 100; i++) yaml.Append(System.Globalization.CultureInfo.InvariantCulture, $"  h{i}: {{}}\n");
        yaml.Append("bridges:\n  br0: { namespace: sw, addresses: [10.1.0.254/16] }\nveths:\n");
        for (int i = 1; i <= 100; i++)
        {
            yaml.Append(System.Globalization.CultureInfo.InvariantCulture, $"  - a: {{ namespace: h{i}, name: eth0, addresses: [10.1.1.{i}/16] }}\n");
            yaml.Append(System.Globalization.CultureInfo.InvariantCulture, $"    b: {{ namespace: sw, name: p{i}, bridge: br0 }}\n");
        }
        string file = Path.Combine(_state.Path, "big.yaml");
        File.WriteAllText(file, yaml.ToString());
        string vnet = $"dotnet {Path.Combine(AppContext.BaseDirectory, "vnet.dll")}";
        string prefix = $"--prefix {_sandbox.Prefix}";
        Vnet("up", "-q", file, "--prefix", _sandbox.Prefix).ExitCode.Should().Be(0);
        _sandbox.Existing().Should().HaveCount(101);

        var (output, errors) = RunScript(["sh", "-c", $"""
            (ulimit -Sn 64; {vnet} plan --detailed-exitcode {prefix} {file} >/dev/null; echo "plan soft 64: $?")
            ulimit -n 150
            {vnet} plan --detailed-exitcode {prefix} {file} >/dev/null; echo "plan at 150: $?"
            {vnet} status {prefix} {file} >/dev/null; echo "status at 150: $?"
            {vnet} down -q --name {_sandbox.Prefix}big; echo "down at 150: $?"
            """], _state.Path);
        output.Should().Be("plan soft 64: 0\nplan at 150: 0\nstatus at 150: 0\n" + $"down: {_sandbox.Prefix}big removed with 101 kernel writes (" + output.Split('(')[^1], errors);
        output.Should().EndWith("down at 150: 0\n");
        _sandbox.Existing().Should().BeEmpty();
    }

    [Fact]
    public void Validate_OfAFileWithAnErrorOnEveryLine_PrintsAHundredAndCountsTheRest()
    {
        var yaml = new System.Text.StringBuilder("version: 1\nname: t\nbridges:\n");
        for (int i = 0; i < 5000; i++) yaml.Append(System.Globalization.CultureInfo.InvariantCulture, $"  b{i}: {{ mtu: x }}\n");
        File.WriteAllText(_file, yaml.ToString());
        var validate = Vnet("validate", _file);
        validate.ExitCode.Should().Be(2);
        string[] lines = validate.StandardError.TrimEnd('\n').Split('\n');
        lines.Should().HaveCount(101);
        lines[0].Should().Be($"{_file}:4:14: error: bridges.b0.mtu: expected an integer, found 'x'");
        lines[^1].Should().Be("... and 4,900 more (5,000 errors and 0 warnings in all)");
    }
}
