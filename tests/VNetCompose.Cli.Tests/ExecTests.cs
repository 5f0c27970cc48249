using System.Diagnostics;
using System.Text.Json;
using VNetCompose.TestSupport;

namespace VNetCompose.Cli.Tests;

/// <summary>
/// <c>vnet exec</c> against a real lab (docker0, sandboxed): the program runs in the namespace the topology
/// names, as <c>ip netns exec</c> (the oracle) would run it, with stdin, stdout, stderr, the exit status,
/// signals and the environment passed through.
/// </summary>
[Collection(LabCollection.Name)]
public sealed class ExecTests(LabUnderTest lab)
{
    private CommandResult Exec(params string[] arguments) => lab.Vnet.Run(["exec", .. arguments], stdin: null);

    /// <summary>What identifies a network namespace: the inode behind /proc/self/ns/net, e.g. <c>net:[4026532291]</c>.</summary>
    private string NamespaceOf(string ns) => lab.Sandbox.Exec(ns, "readlink", "/proc/self/ns/net").EnsureSuccess().StandardOutput;

    [Fact]
    public void Exec_RunsTheProgramInTheNamespaceTheTopologyNames_WithItsOwnSys()
    {
        var byName = Exec("ubuntu1", "--name", lab.Instance, "--", "readlink", "/proc/self/ns/net");
        byName.ExitCode.Should().Be(0, byName.StandardError);
        byName.StandardOutput.Should().Be(NamespaceOf("ubuntu1"));

        var byFile = lab.Vnet.Run([.. lab.Placement("exec", "host", LabUnderTest.File), "--", "ls", "/sys/class/net"], stdin: null);
        byFile.ExitCode.Should().Be(0, byFile.StandardError);
        byFile.StandardOutput.Should().Be(lab.Sandbox.Exec("host", "ls", "/sys/class/net").EnsureSuccess().StandardOutput)
            .And.Contain("docker0");

        // The only instance that is up (in this state directory) needs neither.
        Exec("ubuntu2", "--", "readlink", "/proc/self/ns/net").StandardOutput.Should().Be(NamespaceOf("ubuntu2"));
    }

    [Fact]
    public void Exec_PassesStdinStdoutStderrAndTheExitCode()
    {
        var result = lab.Vnet.Run(["exec", "ubuntu1", "--", "sh", "-c", "cat; echo to-stderr >&2; exit 7"], stdin: "from stdin\n");
        result.ExitCode.Should().Be(7);
        result.StandardOutput.Should().Be("from stdin\n");
        result.StandardError.Should().Be("to-stderr\n");
    }

    [Theory]
    [InlineData("ubuntu2")]
    [InlineData("--all")]
    public void Exec_KeepsTheEnvironmentAndSignalState_AndNamesTheNamespace(string where)
    {
        const string show = "printenv CLI_TEST_VALUE VNET_NAMESPACE VNET_INSTANCE; grep -E '^Sig(Blk|Ign)' /proc/self/status";
        var result = lab.Vnet.Run(["exec", where, "-o", "json", "--", "sh", "-c", show], stdin: null,
            new Dictionary<string, string> { ["CLI_TEST_VALUE"] = "kept" });
        result.ExitCode.Should().Be(0, result.StandardError);
        // The oracle: the same shell started directly by this test, except that SIGPIPE must have its default
        // action (.NET ignores it, and its children inherit that; a shell gives programs the default).
        var direct = ProcessRunner.Run("sh", "-c", "grep -E '^Sig(Blk|Ign)' /proc/self/status").EnsureSuccess().StandardOutput;
        string signals = System.Text.RegularExpressions.Regex.Replace(direct, @"SigIgn:\t([0-9a-f]+)", m =>
            "SigIgn:\t" + (Convert.ToUInt64(m.Groups[1].Value, 16) & ~(1UL << (13 - 1))).ToString("x16", System.Globalization.CultureInfo.InvariantCulture));
        using var json = OutputSchemas.Validate(result.StandardOutput, "exec");
        var outputs = json.RootElement.GetProperty("results").EnumerateArray()
            .Select(r => (r.GetProperty("namespace").GetString(), r.GetProperty("stdout").GetString())).ToList();
        var expected = (where == "--all" ? new[] { "host", "ubuntu1", "ubuntu2" } : [where])
            .Select(ns => ((string?)ns, (string?)$"kept\n{ns}\n{lab.Instance}\n{signals}"));
        outputs.Should().Equal(expected);

        // Replacing vnet (no -o json) too.
        var replaced = lab.Vnet.Run(["exec", "ubuntu2", "--", "sh", "-c", show], stdin: null,
            new Dictionary<string, string> { ["CLI_TEST_VALUE"] = "kept" });
        replaced.StandardOutput.Should().Be($"kept\nubuntu2\n{lab.Instance}\n{signals}");
    }

    [Fact]
    public void Exec_ProgramBecomesTheProcess_SoASignalToVnetReachesIt()
    {
        using var process = lab.Vnet.Start(["exec", "ubuntu1", "--", "sleep", "30"]);
        WaitUntil(() => File.ReadAllText($"/proc/{process.Id}/comm").Trim() == "sleep", "vnet to become sleep");
        ProcessRunner.RunChecked("kill", "-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        process.WaitForExit(TimeSpan.FromSeconds(10)).Should().BeTrue();
        process.ExitCode.Should().Be(128 + 15);
    }

    [Fact]
    public void ExecAll_RelaysSIGTERMToTheRunningProgram_AndStopsThere()
    {
        using var process = lab.Vnet.Start(["exec", "--all", "--", "sh", "-c",
            "trap 'echo TERM in $VNET_NAMESPACE; exit 9' TERM; echo started; sleep 30 & wait"]);
        var lines = new List<string>();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (lines) lines.Add(e.Data); };
        process.BeginOutputReadLine();
        WaitUntil(() => { lock (lines) return lines.Contains("started"); }, "the first program to start");
        ProcessRunner.RunChecked("kill", "-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        process.WaitForExit(TimeSpan.FromSeconds(10)).Should().BeTrue();
        process.WaitForExit();
        process.ExitCode.Should().Be(9);
        lines.Should().Equal($"== host ({lab.Kernel("host")}) ==", "started", "TERM in host");
    }

    [Fact]
    public void ExecAll_RunsInEveryNamespaceInTurn_WithAHeaderEach_AndEmptyStdin()
    {
        var result = lab.Vnet.Run(["exec", "--all", "--", "sh", "-c", "readlink /proc/self/ns/net; cat"], stdin: "not for --all\n");
        result.ExitCode.Should().Be(0, result.StandardError);
        result.StandardOutput.Should().Be(string.Concat(new[] { "host", "ubuntu1", "ubuntu2" }
            .Select(ns => $"== {ns} ({lab.Kernel(ns)}) ==\n{NamespaceOf(ns)}")));
    }

    [Fact]
    public void ExecAllJson_GivesOneRecordPerNamespace_ValidAgainstTheSchema_AndTheHighestExitCode()
    {
        var result = Exec("--all", "-o", "json", "--", "sh", "-c", "readlink /proc/self/ns/net; echo err >&2; [ $VNET_NAMESPACE != ubuntu1 ] || exit 5");
        result.ExitCode.Should().Be(5, result.StandardError);
        using var json = OutputSchemas.Validate(result.StandardOutput, "exec");
        json.RootElement.GetProperty("instance").GetString().Should().Be(lab.Instance);
        var records = json.RootElement.GetProperty("results").EnumerateArray().Select(r => (
            r.GetProperty("namespace").GetString(), r.GetProperty("netns").GetString(), r.GetProperty("exit_code").GetInt32(),
            r.GetProperty("stdout").GetString(), r.GetProperty("stderr").GetString())).ToList();
        records.Should().Equal(
            ("host", lab.Kernel("host"), 0, NamespaceOf("host"), "err\n"),
            ("ubuntu1", lab.Kernel("ubuntu1"), 5, NamespaceOf("ubuntu1"), "err\n"),
            ("ubuntu2", lab.Kernel("ubuntu2"), 0, NamespaceOf("ubuntu2"), "err\n"));
    }

    [Fact]
    public void Exec_WithoutCommand_StartsTheShellWithAPromptNamingTheNamespace()
    {
        // sh reading commands from a pipe (no terminal here): the prompt is in its environment.
        var result = lab.Vnet.Run(["exec", "ubuntu1"], stdin: "echo \"$PS1|$VNET_NAMESPACE\"\n",
            new Dictionary<string, string> { ["SHELL"] = "/bin/sh", ["PS1"] = "$ " });
        result.ExitCode.Should().Be(0, result.StandardError);
        result.StandardOutput.Should().Be("(vnet:ubuntu1) $ |ubuntu1\n");
    }

    [Fact]
    public void Exec_UnknownNamespace_SaysWhichExistAndTheClosest()
    {
        var typo = Exec("ubuntu", "--", "true");
        typo.ExitCode.Should().Be(1);
        typo.StandardError.Should().Be($"error: {lab.Instance} has no namespace 'ubuntu' (it has host, ubuntu1, ubuntu2); did you mean 'ubuntu1'?\n");

        var kernelName = Exec(lab.Kernel("ubuntu2"), "--", "true");
        kernelName.ExitCode.Should().Be(1);
        kernelName.StandardError.Should().EndWith($"did you mean 'ubuntu2'? ({lab.Kernel("ubuntu2")} is its name in the kernel)\n");
    }

    [Fact]
    public void Exec_ProgramNotFoundOrNotExecutable_Exits127Or126()
    {
        var missing = Exec("ubuntu1", "--", "no-such-program-here");
        missing.ExitCode.Should().Be(127);
        missing.StandardError.Should().Be($"error: cannot run 'no-such-program-here' in ubuntu1 ({lab.Kernel("ubuntu1")}): No such file or directory\n");
        Exec("--all", "--", "no-such-program-here").ExitCode.Should().Be(127);
        Exec("ubuntu1", "--", "/etc/hostname").ExitCode.Should().Be(126);
    }

    [Fact]
    public void Exec_UnknownInstance_IsAnErrorNamingIt()
    {
        var result = Exec("ubuntu1", "--name", lab.Instance + "x", "--", "true");
        result.ExitCode.Should().Be(1);
        result.StandardError.Should().StartWith($"error: no instance {lab.Instance}x is up (no state file in {lab.Vnet.StateDirectory}); did you mean '{lab.Instance}'?");
    }

    [Fact]
    public void Exec_InALabThatIsNotUp_SaysSo()
    {
        var one = lab.Vnet.Run(["exec", "ubuntu1", LabUnderTest.File, "--prefix", lab.Sandbox.Prefix + "x-", "--", "true"], stdin: null);
        one.ExitCode.Should().Be(1);
        one.StandardError.Should().Be($"error: {lab.Sandbox.Prefix}x-docker0: namespace ubuntu1 ({lab.Sandbox.Prefix}x-ubuntu1) does not exist; is the lab up?\n");
        var all = lab.Vnet.Run(["exec", "--all", Vnet.Topology("two-namespaces.yaml"), "--prefix", lab.Sandbox.Prefix + "x-", "--", "true"], stdin: null);
        all.StandardError.Should().Be($"error: {lab.Sandbox.Prefix}x-two-namespaces: namespaces net0 ({lab.Sandbox.Prefix}x-net0), net1 ({lab.Sandbox.Prefix}x-net1) do not exist; is the lab up?\n");
    }

    private static void WaitUntil(Func<bool> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(20)) throw new TimeoutException($"waited 20 s for {what}");
            Thread.Sleep(20);
        }
    }
}
