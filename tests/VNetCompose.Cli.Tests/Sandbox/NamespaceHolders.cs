using System.Globalization;

namespace VNetCompose.Cli.Tests.Sandbox;

/// <summary>
/// The machine-wide view of namespaces, read as root from /proc, independently of vnet: a namespace exists as long as
/// a process is in it (/proc/PID/ns/*), a descriptor refers to it (/proc/PID/fd/*) or it is bound to a path (an nsfs
/// entry of some process's mountinfo). A namespace none of these hold is gone.
/// </summary>
public static class NamespaceHolders
{
    /// <summary>The namespaces of a process: "net:[4026531840]" and so on (user, net, mnt, pid).</summary>
    public static IReadOnlyList<string> Of(int pid) =>
        new[] { "user", "net", "mnt", "pid" }.Select(t => new FileInfo($"/proc/{pid}/ns/{t}").LinkTarget ?? "").ToList();

    /// <summary>Who still holds any of <paramref name="namespaces"/> ("net:[N]"), one line each; empty when none.</summary>
    public static IReadOnlyList<string> Holding(IReadOnlyCollection<string> namespaces)
    {
        var found = new List<string>();
        var inodes = namespaces.Select(n => n[(n.IndexOf('[', StringComparison.Ordinal) + 1)..^1]).ToHashSet(StringComparer.Ordinal);
        foreach (string dir in Directory.EnumerateDirectories("/proc"))
        {
            string pid = Path.GetFileName(dir);
            if (!int.TryParse(pid, NumberStyles.None, CultureInfo.InvariantCulture, out _)) continue;
            try
            {
                foreach (string link in Directory.EnumerateFileSystemEntries(Path.Combine(dir, "ns"))
                    .Concat(Directory.EnumerateFileSystemEntries(Path.Combine(dir, "fd"))))
                {
                    string? target = new FileInfo(link).LinkTarget;
                    if (target is not null && namespaces.Contains(target)) found.Add($"process {pid} ({Command(dir)}): {link} -> {target}");
                }
                foreach (string line in File.ReadLines(Path.Combine(dir, "mountinfo")))
                {
                    string[] fields = line.Split(' ');
                    // Field 4 of an nsfs mount is "net:[N]" (the bound namespace).
                    if (fields.Length > 4 && inodes.Any(i => fields[3].EndsWith($"[{i}]", StringComparison.Ordinal)))
                        found.Add($"process {pid} ({Command(dir)}): a mount of {fields[3]} on {fields[4]}");
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The process ended while being read.
            }
        }
        return found.Distinct().ToList();
    }

    private static string Command(string dir)
    {
        try
        {
            return File.ReadAllText(Path.Combine(dir, "comm")).Trim();
        }
        catch (IOException)
        {
            return "?";
        }
    }
}
