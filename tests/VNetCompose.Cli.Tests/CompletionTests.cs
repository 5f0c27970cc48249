using System.Diagnostics;
using VNetCompose.TestSupport;

namespace VNetCompose.Cli.Tests;

/// <summary>
/// Shell completion: vnet's own answers to the <c>[suggest]</c> directive (instances, a lab's namespaces,
/// topology files), and the scripts of <c>vnet completion</c> run by real bash, zsh and fish against a
/// real lab, with a <c>vnet</c> on their PATH.
/// </summary>
[Collection(LabCollection.Name)]
public sealed class CompletionTests : IDisposable
{
    private readonly LabUnderTest _lab;
    private readonly string _bin = Directory.CreateTempSubdirectory("vnet-cli-bin-").FullName;
    /// <summary>Where the shells and vnet run: a few topologies, a folder, and files that are not topologies.</summary>
    private readonly string _work = Directory.CreateTempSubdirectory("vnet-cli-work-").FullName;

    public CompletionTests(LabUnderTest lab)
    {
        _lab = lab;
        string vnet = Path.Combine(_bin, "vnet");
        File.WriteAllText(vnet, $"#!/bin/sh\nexec dotnet {Path.Combine(AppContext.BaseDirectory, "vnet.dll")} \"$@\"\n");
        ProcessRunner.RunChecked("chmod", "+x", vnet);
        Directory.CreateDirectory(Path.Combine(_work, "labs"));
        foreach (string file in new[] { "a.yaml", "b.yml", "notes.txt", ".hidden.yaml", "labs/docker0.yaml", "labs/router.yaml" })
            File.WriteAllText(Path.Combine(_work, file), "");
    }

    public void Dispose()
    {
        Directory.Delete(_bin, recursive: true);
        Directory.Delete(_work, recursive: true);
    }

    /// <summary>What vnet proposes for <paramref name="line"/> with the cursor at its end.</summary>
    private IReadOnlyList<string> Suggest(string line)
    {
        var result = _lab.Vnet.Run([$"[suggest:{line.Length}]", line], stdin: null, workingDirectory: _work);
        result.ExitCode.Should().Be(0, result.StandardError);
        return result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    private static IEnumerable<string> Words(IEnumerable<string> candidates) => candidates.Where(c => !c.StartsWith('-'));

    [Fact]
    public void Suggest_ProposesInstances_TheLabsNamespaces_AndTopologyFiles()
    {
        Words(Suggest("vnet down --name ")).Should().Equal(_lab.Instance);
        Words(Suggest("vnet status --name ")).Should().Equal(_lab.Instance);
        Words(Suggest("vnet exec ")).Should().Equal("host", "ubuntu1", "ubuntu2");
        Words(Suggest($"vnet exec --name {_lab.Instance} ubu")).Should().Equal("ubuntu1", "ubuntu2");
        Words(Suggest("vnet exec ubuntu1 ")).Should().Equal("a.yaml", "b.yml", "labs/");
        Words(Suggest("vnet exec --all ")).Should().Equal("a.yaml", "b.yml", "labs/");
        Words(Suggest("vnet exec ubuntu1 -- ")).Should().BeEmpty();
        Words(Suggest("vnet up labs/d")).Should().Equal("labs/docker0.yaml");
        Words(Suggest("vnet validate labs/")).Should().Equal("labs/docker0.yaml", "labs/router.yaml");
        Words(Suggest("vnet plan .")).Should().Equal(".hidden.yaml");
        Words(Suggest("vnet up --host-netns " + _lab.Sandbox.Prefix)).Should().Equal(_lab.Sandbox.Existing());
        Words(Suggest("vnet completion ")).Should().Equal("bash", "fish", "zsh");
        Suggest("vnet down --n").Should().Equal("--name", "--no-wait");
    }

    [Fact]
    public void CompletionScripts_AreValidShellSyntax()
    {
        foreach (var (shell, check) in new[] { ("bash", "bash"), ("zsh", "zsh"), ("fish", "fish") })
        {
            if (FactWhenInstalledAttribute.Find(check) is null) continue;
            string script = Path.Combine(_bin, "completion." + shell);
            File.WriteAllText(script, Script(shell));
            ProcessRunner.Run(check, "-n", script).EnsureSuccess();
        }
        Script("bash").Should().Contain("complete -F _vnet_complete vnet");
    }

    private string Script(string shell) => _lab.Vnet.Run("completion", shell).EnsureSuccess().StandardOutput;

    [Fact]
    public void BashScript_CompletesThroughVnet()
    {
        string script = Path.Combine(_bin, "vnet.bash");
        File.WriteAllText(script, Script("bash"));
        string Complete(string line) => RunShell("bash", ["-c", """
            source "$1"; COMP_LINE=$2; COMP_POINT=${#COMP_LINE}
            read -ra COMP_WORDS <<< "$COMP_LINE"; [[ $COMP_LINE == *' ' ]] && COMP_WORDS+=('')
            COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 )); _vnet_complete; printf '%s\n' "${COMPREPLY[@]}"
            """, "bash", script, line]);

        Complete("vnet down --name ").Should().Be(_lab.Instance + "\n");
        Complete("vnet exec ").Should().Be("host\nubuntu1\nubuntu2\n");
        Complete("vnet exec u").Should().Be("ubuntu1\nubuntu2\n");
        Complete("vnet up labs/do").Should().Be("labs/docker0.yaml\n");
        Complete("vnet up la").Should().Be("labs/\n");
        Complete("vnet st").Should().Be("status\n");
        Complete("vnet exec --na").Should().Be("--name\n");
    }

    [FactWhenInstalled("fish")]
    public void FishScript_CompletesThroughVnet()
    {
        string script = Path.Combine(_bin, "vnet.fish");
        File.WriteAllText(script, Script("fish"));
        string Complete(string line) => RunShell("fish", ["-c", $"source {script}; complete -C '{line}'"]);

        Complete("vnet down --name ").Should().Be(_lab.Instance + "\n");
        Complete("vnet exec ").Should().Be("host\nubuntu1\nubuntu2\n");
        Complete("vnet up labs/do").Should().Be("labs/docker0.yaml\n");
    }

    [FactWhenInstalled("zsh")]
    public void ZshScript_CompletesThroughVnet_InAnInteractiveShell()
    {
        // zsh completes only in its line editor: drive an interactive zsh through a pseudo-terminal (zsh/zpty).
        string driver = Path.Combine(_bin, "drive.zsh");
        File.WriteAllText(driver, """
            zmodload zsh/zpty
            zpty z zsh -f -i
            zpty -w z 'PS1="> "; autoload -Uz compinit; compinit -u; source <(vnet completion zsh); print ready'
            typeset out="" chunk
            for i in {1..300}; do zpty -rt z chunk && out+=$chunk; [[ $out == *ready* ]] && break; sleep 0.1; done
            # Complete, then turn the line into a command that prints it: only a completed line prints the whole name.
            zpty -w -n z "vnet down --name ${1}"$'\t'
            sleep 1
            zpty -w -n z $'\C-a'"print -r -- completed: "$'\n'
            out=""
            for i in {1..300}; do zpty -rt z chunk && out+=$chunk; [[ $out == *"completed: vnet down --name ${2}"* ]] && break; sleep 0.1; done
            zpty -d z
            [[ $out == *"completed: vnet down --name ${2}"* ]] && print completed || print -r -- "$out"
            """);
        string prefix = _lab.Instance[..^3];
        RunShell("zsh", ["-f", driver, prefix, _lab.Instance]).Should().EndWith("completed\n");
    }

    private string RunShell(string shell, IReadOnlyList<string> arguments)
    {
        var start = new ProcessStartInfo(shell)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = _work,
        };
        foreach (var a in arguments) start.ArgumentList.Add(a);
        start.Environment["PATH"] = _bin + ":" + Environment.GetEnvironmentVariable("PATH");
        start.Environment["VNET_STATE_DIR"] = _lab.Vnet.StateDirectory;
        start.Environment["HOME"] = _bin;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit(TimeSpan.FromSeconds(60)).Should().BeTrue($"{shell} should finish");
        process.WaitForExit();
        process.ExitCode.Should().Be(0, stderr.Result);
        return stdout.Result;
    }
}
