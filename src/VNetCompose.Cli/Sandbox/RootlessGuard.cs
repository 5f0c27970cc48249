using System.CommandLine;
using System.Globalization;
using VNetCompose.Cli.Commands;

namespace VNetCompose.Cli.Sandbox;

/// <summary>
/// The commands that work on the kernel (plan, up, down, status, watch, exec, export, gc, graph --live) need CAP_NET_ADMIN (links, addresses,
/// nftables) and CAP_SYS_ADMIN (namespaces and their mounts) over the network vnet runs in: root on the machine,
/// or root of a sandbox. Run by anyone else, they say so, and how, before the first kernel call, instead of
/// failing at it with "Operation not permitted".
/// </summary>
internal static class RootlessGuard
{
    private static readonly HashSet<string> KernelCommands = new(StringComparer.Ordinal) { "plan", "up", "down", "status", "watch", "exec", "export", "gc" };
    // <linux/capability.h>
    private const int CapNetAdmin = 12, CapSysAdmin = 21;

    /// <summary>Exit code 1 after the message when the parsed command needs capabilities this process lacks; else null.</summary>
    public static int? Refuse(ParseResult parse, Func<ulong?>? effectiveCapabilities = null)
    {
        ArgumentNullException.ThrowIfNull(parse);
        var command = parse.CommandResult.Command;
        // Only the command's own action: --help and completion work for anyone.
        if (!ReadsTheKernel(parse, command) || parse.Action != command.Action) return null;
        ulong? capabilities = (effectiveCapabilities ?? ReadEffectiveCapabilities)();
        if (capabilities is not { } held) return null;
        var missing = new List<string>();
        if ((held & (1UL << CapNetAdmin)) == 0) missing.Add("CAP_NET_ADMIN");
        if ((held & (1UL << CapSysAdmin)) == 0) missing.Add("CAP_SYS_ADMIN");
        if (missing.Count == 0) return null;
        string line = "vnet " + string.Join(' ', parse.Tokens.Select(t => Quote(t.Value)));
        parse.InvocationConfiguration.Error.WriteLine(
            $"error: vnet {command.Name} works on the kernel's network configuration and needs root ({string.Join(" and ", missing)}), which this process lacks: "
            + $"run it in a sandbox of your own, no sudo needed: vnet sandbox -- {line} (or start 'vnet sandbox' and work in its shell; see \"Without root\" in the README), or as root: sudo {line}");
        return CommonOptions.ErrorExitCode;
    }

    /// <summary>A kernel command, or graph with --live (without it, graph draws the file only).</summary>
    private static bool ReadsTheKernel(ParseResult parse, Command command) =>
        KernelCommands.Contains(command.Name)
        || command.Name == "graph" && command.Options.OfType<Option<bool>>().FirstOrDefault(o => o.Name == "--live") is { } live && parse.GetValue(live);

    /// <summary>CapEff of /proc/self/status; null when it cannot be read (then nothing is refused here).</summary>
    private static ulong? ReadEffectiveCapabilities()
    {
        try
        {
            foreach (string l in File.ReadLines("/proc/self/status"))
            {
                if (l.StartsWith("CapEff:", StringComparison.Ordinal))
                    return ulong.Parse(l["CapEff:".Length..].Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            }
        }
        catch (IOException)
        {
        }
        return null;
    }

    private static string Quote(string word) =>
        word.Length > 0 && word.All(c => char.IsAsciiLetterOrDigit(c) || "-_./=:,@%+".Contains(c)) ? word : "'" + word.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
