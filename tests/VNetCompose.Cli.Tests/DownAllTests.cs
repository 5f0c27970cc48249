using VNetCompose.TestSupport;

namespace VNetCompose.Cli.Tests;

/// <summary><c>vnet down --all</c>: every instance with a state file goes, after a question on a terminal.</summary>
public sealed class DownAllTests : IDisposable
{
    private readonly Vnet _vnet = new();
    private readonly SandboxNamespaces _first = new();
    private readonly SandboxNamespaces _second = new();

    public DownAllTests()
    {
        Up(_first, "docker0.yaml");
        Up(_second, "two-namespaces.yaml");
    }

    public void Dispose()
    {
        _first.Dispose();
        _second.Dispose();
        _vnet.Dispose();
    }

    private void Up(SandboxNamespaces sandbox, string topology) =>
        _vnet.Run("up", "-q", Vnet.Topology(topology), "--prefix", sandbox.Prefix, "--host-netns", sandbox.Name("host")).EnsureSuccess();

    /// <summary>Both instances, in name order (the order down --all takes them in).</summary>
    private string[] Instances => new[] { _first.Prefix + "docker0", _second.Prefix + "two-namespaces" }.Order(StringComparer.Ordinal).ToArray();

    private IReadOnlyList<string> StateFiles() => Directory.GetFiles(_vnet.StateDirectory, "*.json");

    [Fact]
    public void DownAllYes_RemovesEveryInstance_AndNothingElse()
    {
        string foreign = _first.Create("not-vnets");
        _first.Existing().Should().HaveCount(4);

        var down = _vnet.Run("down", "--all", "--yes");
        down.ExitCode.Should().Be(0, down.StandardError);
        down.StandardOutput.Should().Contain($"down: {_first.Prefix}docker0 removed with ")
            .And.Contain($"down: {_second.Prefix}two-namespaces removed with ");
        _first.Existing().Should().Equal(foreign);
        _second.Existing().Should().BeEmpty();
        StateFiles().Should().BeEmpty();

        var again = _vnet.Run("down", "--all", "--yes");
        again.ExitCode.Should().Be(0);
        again.StandardOutput.Should().Be("down --all: no instance is up.\n");
    }

    [Fact]
    public void DownAllJson_GivesOneOutcomePerInstance()
    {
        var down = _vnet.Run("down", "--all", "-o", "json");
        down.ExitCode.Should().Be(0, down.StandardError);
        using var json = OutputSchemas.Validate(down.StandardOutput, "down");
        json.RootElement.GetProperty("instances").EnumerateArray()
            .Select(i => (i.GetProperty("instance").GetString(), i.GetProperty("status").GetString()))
            .Should().Equal(Instances.Select(i => ((string?)i, (string?)"removed")));
        _first.Existing().Should().BeEmpty();
    }

    [Fact]
    public void DownAll_GoesOnPastAnInstanceItCannotRead_AndExitsOne()
    {
        File.WriteAllText(Path.Combine(_vnet.StateDirectory, "aaa-damaged.json"), "{ not json");
        var down = _vnet.Run("down", "--all");
        down.ExitCode.Should().Be(1);
        down.StandardError.Should().StartWith("error: aaa-damaged: state file ");
        _first.Existing().Should().BeEmpty();
        _second.Existing().Should().BeEmpty();
    }

    [FactWhenInstalled("script")]
    public void DownAll_OnATerminal_AsksFirst_AndOnlyYesProceeds()
    {
        var no = OnTerminal("down --all", "n\n");
        no.ExitCode.Should().Be(1);
        no.StandardOutput.Should().Contain($"Remove 2 instances ({string.Join(", ", Instances)}) and everything they own? [y/N] ")
            .And.Contain("down --all: cancelled; nothing was removed.");
        _first.Existing().Should().HaveCount(3);
        StateFiles().Should().HaveCount(2);

        var yes = OnTerminal("down --all -q", "y\n");
        yes.ExitCode.Should().Be(0, yes.StandardOutput);
        _first.Existing().Should().BeEmpty();
        _second.Existing().Should().BeEmpty();
    }

    /// <summary>Runs vnet with a pseudo-terminal as stdin/stdout (util-linux <c>script</c>); everything it shows comes back as stdout.</summary>
    private CommandResult OnTerminal(string arguments, string typed)
    {
        string vnet = $"dotnet {Path.Combine(AppContext.BaseDirectory, "vnet.dll")} {arguments}";
        var start = new System.Diagnostics.ProcessStartInfo("script", ["-qec", vnet, "/dev/null"])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["VNET_STATE_DIR"] = _vnet.StateDirectory;
        using var process = System.Diagnostics.Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.StandardInput.Write(typed);
        process.StandardInput.Close();
        process.WaitForExit(TimeSpan.FromSeconds(60)).Should().BeTrue();
        return new CommandResult("script " + vnet, process.ExitCode, stdout.Result, stderr.Result);
    }
}
