using System.Globalization;
using VNetCompose.Cli.Sandbox.Interop;

namespace VNetCompose.Cli.Sandbox;

/// <summary>
/// The file system view of a sandbox, made in its own mount namespace (every mount private, so nothing is seen
/// outside and everything goes with the namespace):
/// <list type="bullet">
/// <item>/run: a tmpfs holding everything the machine's /run holds (each entry bound back, with the mounts
/// below it: /run/user/UID, sockets, /run/systemd/resolve...) except <c>netns</c> and <c>vnet</c>, which are new
/// and empty: the sandbox's named namespaces and vnet's state directory (mode 0700, the user's, as vnet requires);
/// and a new <c>/run/tmp</c> (mode 1777, as /tmp) that the sandbox's programs get as TMPDIR (see <see cref="TemporaryDirectory"/>);</item>
/// <item>/sys: a new sysfs, which shows the devices of the sandbox's network namespace (/sys/class/net), with the
/// mounts that were below the machine's /sys (cgroup, ...) bound back;</item>
/// <item>/proc: a new proc of the sandbox's pid namespace.</item>
/// </list>
/// Only the first is required; the others, refused in some containers, are warnings.
/// </summary>
internal static class SandboxMounts
{
    public const string NetnsDirectory = "/run/netns", StateDirectory = "/run/vnet";

    /// <summary>
    /// The sandbox's TMPDIR. In the sandbox the user is uid 0, so tools naming their folder of /tmp after the user
    /// (NuGet's /tmp/NuGetScratchroot) find the machine's root's, which they may not use: "unable to set
    /// permission to 700 while creating /tmp/NuGetScratchroot". A folder of the sandbox's own avoids that, and goes
    /// with the sandbox.
    /// </summary>
    public const string TemporaryDirectory = "/run/tmp";

    private static readonly HashSet<string> Fresh = new(StringComparer.Ordinal) { "netns", "vnet", "tmp" };

    /// <summary>TMPDIR for a program of the sandbox: <see cref="TemporaryDirectory"/>, unless the user chose a folder.</summary>
    public static void SetTemporaryDirectory(Dictionary<string, string> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        if (environment.GetValueOrDefault("TMPDIR") is not { Length: > 0 }) environment["TMPDIR"] = TemporaryDirectory;
    }

    /// <summary>Makes all three; returns the warnings (one line each).</summary>
    public static List<string> Make()
    {
        var warnings = new List<string>();
        OverlayRun(warnings);
        Sysfs(warnings);
        Procfs(warnings);
        return warnings;
    }

    private static void OverlayRun(List<string> warnings)
    {
        // The old /run stays reachable through a descriptor once the tmpfs covers it (/proc/self/fd/N/ENTRY).
        int old = SandboxNative.Open("/run", SandboxNative.O_PATH | SandboxNative.O_DIRECTORY | SandboxNative.O_CLOEXEC);
        if (old < 0) throw new SandboxSetupException($"cannot open /run: {SandboxNative.Describe(-old)}");
        try
        {
            var entries = new DirectoryInfo("/run").EnumerateFileSystemInfos().Where(e => !Fresh.Contains(e.Name)).ToList();
            Check(SandboxNative.Mount("tmpfs", "/run", "tmpfs", SandboxNative.MS_NOSUID | SandboxNative.MS_NODEV, "mode=0755"), "mounting a tmpfs on /run");
            string oldRun = $"/proc/self/fd/{old.ToString(CultureInfo.InvariantCulture)}";
            var skipped = new List<string>();
            foreach (var entry in entries)
            {
                string target = Path.Combine("/run", entry.Name), source = Path.Combine(oldRun, entry.Name);
                try
                {
                    if (entry.LinkTarget is { } link)
                    {
                        File.CreateSymbolicLink(target, link);
                        continue;
                    }
                    if (entry is DirectoryInfo) Directory.CreateDirectory(target);
                    else File.WriteAllBytes(target, []);
                    int rc = SandboxNative.Mount(source, target, null, SandboxNative.MS_BIND | SandboxNative.MS_REC);
                    if (rc < 0) skipped.Add($"{entry.Name} ({SandboxNative.Describe(-rc)})");
                }
                catch (IOException e)
                {
                    skipped.Add($"{entry.Name} ({e.Message})");
                }
            }
            if (OperatingSystem.IsWindows()) throw new PlatformNotSupportedException("vnet runs on Linux");
            if (skipped.Count > 0) warnings.Add($"these entries of the machine's /run are not in the sandbox's: {string.Join(", ", skipped)}");
            Directory.CreateDirectory(NetnsDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
            Directory.CreateDirectory(StateDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            Directory.CreateDirectory(TemporaryDirectory);
            // Set after creating, the umask does not apply: rwx for all, sticky (only a file's owner removes it), as /tmp.
            File.SetUnixFileMode(TemporaryDirectory, UnixFileMode.StickyBit | UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                | UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute);
        }
        finally
        {
            SandboxNative.Close(old);
        }
    }

    private static void Sysfs(List<string> warnings)
    {
        // Mounts below /sys (cgroup2, securityfs, ...) would be hidden by the new sysfs: bound back from descriptors.
        var below = MountPointsBelow("/sys")
            .Select(path => (Path: path, Fd: SandboxNative.Open(path, SandboxNative.O_PATH | SandboxNative.O_CLOEXEC)))
            .Where(m => m.Fd >= 0).ToList();
        try
        {
            int rc = SandboxNative.Mount("sysfs", "/sys", "sysfs", SandboxNative.MS_NOSUID | SandboxNative.MS_NODEV | SandboxNative.MS_NOEXEC);
            if (rc < 0)
            {
                warnings.Add($"could not mount a sysfs of the sandbox's network namespace on /sys ({SandboxNative.Describe(-rc)}): /sys/class/net lists the machine's devices (vnet itself reads the kernel through netlink)");
                return;
            }
            foreach (var (path, fd) in below)
            {
                // Best effort: a mount point the new sysfs lacks (a module's directory) is left out.
                SandboxNative.Mount($"/proc/self/fd/{fd.ToString(CultureInfo.InvariantCulture)}", path, null, SandboxNative.MS_BIND | SandboxNative.MS_REC);
            }
        }
        finally
        {
            foreach (var (_, fd) in below) SandboxNative.Close(fd);
        }
    }

    private static void Procfs(List<string> warnings)
    {
        int rc = SandboxNative.Mount("proc", "/proc", "proc", SandboxNative.MS_NOSUID | SandboxNative.MS_NODEV | SandboxNative.MS_NOEXEC);
        if (rc < 0)
            warnings.Add($"could not mount a proc of the sandbox's pid namespace on /proc ({SandboxNative.Describe(-rc)}): ps and /proc show the machine's processes");
    }

    /// <summary>The mount points directly below <paramref name="top"/>'s mount, from /proc/self/mountinfo (field 5; \040 is a space).</summary>
    private static List<string> MountPointsBelow(string top)
    {
        var lines = File.ReadAllLines("/proc/self/mountinfo").Select(l => l.Split(' ')).Where(f => f.Length > 5).ToList();
        string? topId = lines.LastOrDefault(f => Unescape(f[4]) == top)?[0];
        if (topId is null) return [];
        return lines.Where(f => f[1] == topId).Select(f => Unescape(f[4])).Where(p => p.StartsWith(top + "/", StringComparison.Ordinal)).Distinct().ToList();
    }

    private static string Unescape(string field) => field.Replace("\\040", " ", StringComparison.Ordinal).Replace("\\011", "\t", StringComparison.Ordinal)
        .Replace("\\012", "\n", StringComparison.Ordinal).Replace("\\134", "\\", StringComparison.Ordinal);

    private static void Check(int rc, string what)
    {
        if (rc < 0) throw new SandboxSetupException($"{what}: {SandboxNative.Describe(-rc)}");
    }
}

/// <summary>The sandbox could not be set up; the message says which step and why.</summary>
internal sealed class SandboxSetupException(string message) : Exception(message);
