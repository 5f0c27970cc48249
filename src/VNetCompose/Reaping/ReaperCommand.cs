using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace VNetCompose.Reaping;

/// <summary>
/// How to start the lab reaper: this library's own assembly (which has an entry point for it) run by the
/// same .NET installation as the current process, <c>dotnet exec --runtimeconfig CONFIG VNetCompose.dll</c>.
/// It needs nothing but what a test project referencing the package already has: the vnet tool need not be
/// installed. Without a <c>.deps.json</c> the host loads the assemblies of the library's folder (the
/// project's output folder), and the reaper resolves RID-specific ones itself (<see cref="ReaperProgram"/>).
/// </summary>
internal sealed record ReaperCommand(string Host, string RuntimeConfig, string Assembly, string? TemporaryDirectory)
{
    /// <summary>setsid(1) of util-linux (or busybox), when the system has it.</summary>
    private static readonly string? Setsid = new[] { "/usr/bin/setsid", "/bin/setsid" }.FirstOrDefault(File.Exists);

    /// <summary>
    /// The command line for <paramref name="arguments"/>, through setsid(1) when there is one: the reaper
    /// then leaves the owner's process group before the runtime starts, so a Ctrl+C sent to the group in the
    /// first hundred milliseconds (before the reaper's own <c>setsid</c>) misses it too.
    /// </summary>
    public ProcessStartInfo StartInfo(IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(Setsid ?? Host)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        if (Setsid is not null) start.ArgumentList.Add(Host);
        foreach (var a in (string[])["exec", "--runtimeconfig", RuntimeConfig, Assembly]) start.ArgumentList.Add(a);
        foreach (var a in arguments) start.ArgumentList.Add(a);
        return start;
    }

    /// <summary>The command, or null with the reason (a native AOT or single-file host has no assembly file to run).</summary>
    [UnconditionalSuppressMessage("SingleFile", "IL3000", Justification = "An empty location (single-file, AOT) is checked for and means: no reaper.")]
    public static ReaperCommand? Find(out string? whyNot)
    {
        string assembly = typeof(ReaperCommand).Assembly.Location;
        if (string.IsNullOrEmpty(assembly))
        {
            whyNot = "this process is a native AOT or single-file program (no VNetCompose.dll file to run the reaper from)";
            return null;
        }
        string? host = FindHost();
        if (host is null)
        {
            whyNot = "the dotnet host was not found (DOTNET_ROOT, DOTNET_HOST_PATH, PATH)";
            return null;
        }
        var config = FindRuntimeConfig(out string? temporary);
        whyNot = null;
        return new ReaperCommand(host, config, assembly, temporary);
    }

    /// <summary>The <c>dotnet</c> of the installation running this process, else the one the environment names.</summary>
    [UnconditionalSuppressMessage("SingleFile", "IL3000", Justification = "Only reached when this assembly has a file (Find).")]
    private static string? FindHost()
    {
        // .../dotnet/shared/Microsoft.NETCore.App/10.0.x/System.Private.CoreLib.dll -> .../dotnet/dotnet
        string? runtimeDirectory = Path.GetDirectoryName(typeof(object).Assembly.Location);
        string? root = runtimeDirectory is null ? null : Path.GetFullPath(Path.Combine(runtimeDirectory, "..", "..", ".."));
        var candidates = new List<string?>
        {
            root is null ? null : Path.Combine(root, "dotnet"),
            Path.GetFileName(Environment.ProcessPath) == "dotnet" ? Environment.ProcessPath : null,
            Environment.GetEnvironmentVariable("DOTNET_HOST_PATH"),
            Environment.GetEnvironmentVariable("DOTNET_ROOT") is { Length: > 0 } r ? Path.Combine(r, "dotnet") : null,
        };
        candidates.AddRange((Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, "dotnet")));
        return candidates.FirstOrDefault(File.Exists);
    }

    /// <summary>
    /// The running app's own runtimeconfig.json when it has one (it names the frameworks this process runs
    /// on), else one written to a private temporary directory for the runtime version of this process.
    /// </summary>
    private static string FindRuntimeConfig(out string? temporaryDirectory)
    {
        temporaryDirectory = null;
        string baseDirectory = AppContext.BaseDirectory;
        string? entry = System.Reflection.Assembly.GetEntryAssembly()?.GetName().Name;
        var own = entry is null ? null : Path.Combine(baseDirectory, entry + ".runtimeconfig.json");
        if (own is not null && File.Exists(own)) return own;
        if (Directory.Exists(baseDirectory)
            && Directory.EnumerateFiles(baseDirectory, "*.runtimeconfig.json").Order(StringComparer.Ordinal).FirstOrDefault() is { } any)
        {
            return any;
        }
        temporaryDirectory = Directory.CreateTempSubdirectory("vnet-reaper-").FullName; // mode 0700
        string path = Path.Combine(temporaryDirectory, "reaper.runtimeconfig.json");
        using (var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write))
        using (var json = new Utf8JsonWriter(stream))
        {
            json.WriteStartObject();
            json.WriteStartObject("runtimeOptions");
            json.WriteString("tfm", "net" + Environment.Version.ToString(2));
            json.WriteStartObject("framework");
            json.WriteString("name", "Microsoft.NETCore.App");
            json.WriteString("version", Environment.Version.ToString(3));
            json.WriteEndObject();
            json.WriteStartObject("configProperties");
            json.WriteBoolean("System.Globalization.Invariant", true);
            json.WriteEndObject();
            json.WriteEndObject();
            json.WriteEndObject();
        }
        return path;
    }

    /// <summary>"linux-x64", "linux-arm64": the folder name of RID-specific assets for this process.</summary>
    public static string RuntimeIdentifier =>
        "linux-" + RuntimeInformation.ProcessArchitecture.ToString().ToLower(CultureInfo.InvariantCulture);
}
