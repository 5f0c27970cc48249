using System.Diagnostics;
using System.Globalization;
using VNetCompose.TestSupport;

namespace VNetCompose.Cli.Tests.Sandbox;

/// <summary>
/// An ordinary user of the machine, as whom the sandbox tests run vnet: <c>vnettest</c> (or $VNET_TEST_USER),
/// created by test.sh (useradd, with /etc/subuid and /etc/subgid ranges). The tests themselves run as root, to
/// play the user (setpriv: the user's ids and groups, a clean environment) and to look at the machine from
/// outside. The user cannot read a build folder under /root, so the vnet program (framework-dependent, the
/// machine's dotnet) and the example topologies are copied into a world-readable folder of their own.
/// </summary>
public sealed class UnprivilegedUser : IDisposable
{
    public const string DefaultName = "vnettest";

    public UnprivilegedUser()
    {
        Name = Environment.GetEnvironmentVariable("VNET_TEST_USER") is { Length: > 0 } name ? name : DefaultName;
        Skip = Why();
        if (Skip is not null) return;
        Uid = int.Parse(ProcessRunner.RunChecked("id", "-u", Name).Trim(), CultureInfo.InvariantCulture);
        Gid = int.Parse(ProcessRunner.RunChecked("id", "-g", Name).Trim(), CultureInfo.InvariantCulture);
        Home = ProcessRunner.RunChecked("getent", "passwd", Name).Trim().Split(':')[5];
        Folder = Directory.CreateTempSubdirectory("vnet-sandbox-tests-").FullName;
        // Program and topologies, readable by all; a folder of the user's own for its runtime files and markers.
        ProcessRunner.RunChecked("cp", "-r", Path.Combine(AppContext.BaseDirectory, "."), Path.Combine(Folder, "vnet"));
        ProcessRunner.RunChecked("chmod", "-R", "a+rX", Folder);
        Scratch = Path.Combine(Folder, "scratch");
        ProcessRunner.RunChecked("install", "-d", "-o", Name, "-g", Gid.ToString(CultureInfo.InvariantCulture), "-m", "700", Scratch);
        RuntimeDirectory = Path.Combine(Folder, "runtime");
        ProcessRunner.RunChecked("install", "-d", "-o", Name, "-g", Gid.ToString(CultureInfo.InvariantCulture), "-m", "700", RuntimeDirectory);
    }

    public string Name { get; }
    public int Uid { get; }
    public int Gid { get; }
    public string Home { get; } = "";

    /// <summary>Why the tests cannot run here (null when they can).</summary>
    public string? Skip { get; }

    /// <summary>The world-readable copy of the test output: vnet (vnet.dll) and topologies/.</summary>
    public string Folder { get; } = "";
    public string Vnet => Path.Combine(Folder, "vnet", "vnet");
    public string Topology(string name) => Path.Combine(Folder, "vnet", "topologies", name);

    /// <summary>A folder only the user may write (mode 0700): markers, scripts' output.</summary>
    public string Scratch { get; } = "";

    /// <summary>The user's XDG_RUNTIME_DIR in these tests (where named sandboxes are recorded).</summary>
    public string RuntimeDirectory { get; } = "";

    public string RecordOf(string sandbox) => Path.Combine(RuntimeDirectory, "vnet", "sandboxes", sandbox + ".json");

    /// <summary>Whether the user may open /dev/net/tun (taps, and pasta): distributions make it 0666; test.sh grants it where not.</summary>
    public bool CanOpenTun => Run(["test", "-r", "/dev/net/tun", "-a", "-w", "/dev/net/tun"]).ExitCode == 0;

    /// <summary>Starts <paramref name="command"/> as the user: its uid, gid and groups, a login-like environment.</summary>
    public Process Start(IReadOnlyList<string> command, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo("setpriv")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Scratch,
        };
        foreach (string a in new[] { $"--reuid={Uid}", $"--regid={Gid}", "--init-groups", "--reset-env", "--", "env" }) start.ArgumentList.Add(a);
        var variables = new Dictionary<string, string>
        {
            ["PATH"] = $"{Path.Combine(Folder, "vnet")}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            ["HOME"] = Home,
            ["USER"] = Name,
            ["LOGNAME"] = Name,
            ["SHELL"] = "/bin/sh",
            ["LANG"] = "C.UTF-8",
            ["XDG_RUNTIME_DIR"] = RuntimeDirectory,
            ["DOTNET_NOLOGO"] = "1",
            ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
        };
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) variables[key] = value;
        foreach (var (key, value) in variables) start.ArgumentList.Add($"{key}={value}");
        foreach (string word in command) start.ArgumentList.Add(word);
        return Process.Start(start) ?? throw new InvalidOperationException("could not start setpriv");
    }

    /// <summary>Runs <paramref name="command"/> as the user to the end (stdin empty).</summary>
    public CommandResult Run(IReadOnlyList<string> command, TimeSpan? timeout = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        using var process = Start(command, environment);
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        var limit = timeout ?? TimeSpan.FromSeconds(120);
        if (!process.WaitForExit(limit))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"`{string.Join(' ', command)}` as {Name} did not finish within {limit.TotalSeconds} s; stderr: {stderr.Result}");
        }
        return new CommandResult($"{string.Join(' ', command)} (as {Name})", process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary><c>vnet sandbox [options] -- sh -c SCRIPT</c> as the user.</summary>
    public CommandResult Sandbox(string script, params string[] options) =>
        Run([Vnet, "sandbox", .. options, "--", "sh", "-c", script]);

    public void Dispose()
    {
        if (Folder.Length > 0) Directory.Delete(Folder, recursive: true);
    }

    private string? Why()
    {
        if (Environment.UserName != "root") return "the sandbox tests run as root (to play an unprivileged user and look from outside)";
        if (ProcessRunner.Run("id", "-u", Name).ExitCode != 0)
            return $"no user {Name} on this machine: ./test.sh creates it (useradd -m {Name}), or set VNET_TEST_USER to an unprivileged user";
        if (ProcessRunner.Run("which", "setpriv", "unshare", "nsenter").ExitCode != 0) return "util-linux's setpriv, unshare or nsenter is missing";
        return null;
    }
}

/// <summary>The sandbox tests share one user fixture and run one at a time (they look at the user's processes).</summary>
[CollectionDefinition(Name)]
public sealed class SandboxCollection : ICollectionFixture<UnprivilegedUser>
{
    public const string Name = "sandbox (unprivileged user)";
}
