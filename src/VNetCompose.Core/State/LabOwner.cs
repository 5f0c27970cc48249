using System.Globalization;

namespace VNetCompose.Core.State;

/// <summary>Whether the process recorded as a lab's owner still runs.</summary>
public enum OwnerLiveness
{
    /// <summary>The same process (pid and start time) runs.</summary>
    Alive,
    /// <summary>It has exited (or the machine rebooted): its labs are garbage.</summary>
    Dead,
    /// <summary>It ran in another pid namespace, where this process cannot see it: never reaped from here.</summary>
    Unknown,
}

/// <summary>
/// The process a lab made by a test fixture belongs to, recorded in the lab's state file: its pid, its start
/// time (field 22 of <c>/proc/PID/stat</c>, clock ticks since boot, so a reused pid is not mistaken for it),
/// the boot it ran in and its pid namespace (pids mean nothing in another one). Labs of <c>vnet up</c>
/// have no owner and are never reaped.
/// </summary>
/// <param name="Pid">The process id, in <paramref name="PidNamespace"/>.</param>
/// <param name="StartTime">Start time in clock ticks since boot (<c>/proc/PID/stat</c> field 22).</param>
/// <param name="BootId">The kernel's <c>/proc/sys/kernel/random/boot_id</c> when the owner ran.</param>
/// <param name="PidNamespace">The owner's pid namespace (<c>pid:[inode]</c>, as <c>/proc/PID/ns/pid</c> reads).</param>
public sealed record LabOwner(int Pid, ulong StartTime, string BootId, string PidNamespace)
{
    private static readonly Lazy<LabOwner> CurrentProcess = new(() =>
        Of(Environment.ProcessId) ?? throw new InvalidOperationException("cannot read /proc/self/stat"));

    /// <summary>This process.</summary>
    public static LabOwner Current => CurrentProcess.Value;

    /// <summary>The running process <paramref name="pid"/> as an owner; null when there is no such process.</summary>
    public static LabOwner? Of(int pid)
    {
        ulong? start = StartTimeOf(pid);
        if (start is null) return null;
        return new LabOwner(pid, start.Value, ReadBootId(), ReadPidNamespace());
    }

    /// <summary>Whether this owner still runs, judged from this process (see <see cref="OwnerLiveness"/>).</summary>
    public OwnerLiveness Liveness()
    {
        if (BootId != ReadBootId()) return OwnerLiveness.Dead;
        if (PidNamespace != ReadPidNamespace()) return OwnerLiveness.Unknown;
        return StartTimeOf(Pid) == StartTime ? OwnerLiveness.Alive : OwnerLiveness.Dead;
    }

    /// <summary>"pid 1234", as <c>vnet ls</c> shows it.</summary>
    public override string ToString() => "pid " + Pid.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// Field 22 of <c>/proc/PID/stat</c>; null when the process does not exist or is a zombie (it has exited
    /// and only waits for its parent to collect its status). The command name (field 2) may hold spaces and
    /// parentheses, so fields are counted after its last ')'.
    /// </summary>
    public static ulong? StartTimeOf(int pid)
    {
        string stat;
        try
        {
            stat = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or IOException)
        {
            return null;
        }
        int end = stat.LastIndexOf(')');
        if (end < 0) return null;
        var fields = stat[(end + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries); // fields[0] is field 3, the state
        if (fields.Length < 20 || fields[0] is "Z" or "X" or "x") return null;
        return ulong.TryParse(fields[19], NumberStyles.None, CultureInfo.InvariantCulture, out var start) ? start : null;
    }

    private static string ReadBootId() => File.ReadAllText("/proc/sys/kernel/random/boot_id").Trim();

    private static string ReadPidNamespace() => new FileInfo("/proc/self/ns/pid").LinkTarget ?? "";
}

/// <summary>
/// The instance belongs to another process that still runs (a live test fixture), or — for a fixture — was
/// made by <c>vnet up</c>: it is not adopted, so one holder's teardown never pulls a lab from under another.
/// </summary>
public sealed class InstanceHeldException(string instance, LabOwner? holder) : Exception(holder is null
    ? $"instance {instance} was made by 'vnet up': a lab fixture does not adopt it (use LabOptions.Isolated() or another prefix, or remove it first: vnet down --name {instance})"
    : $"instance {instance} is held by a lab fixture of a live process ({holder}): use LabOptions.Isolated() or another prefix for a second lab (vnet down --name {instance} removes it anyway)")
{
    /// <summary>The instance asked for.</summary>
    public string Instance { get; } = instance;

    /// <summary>The process holding it; null when <c>vnet up</c> made it.</summary>
    public LabOwner? Holder { get; } = holder;
}
