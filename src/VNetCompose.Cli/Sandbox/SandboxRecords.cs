using System.Globalization;
using System.Text.Json;
using VNetCompose.Cli.Sandbox.Interop;

namespace VNetCompose.Cli.Sandbox;

/// <summary>
/// A running named sandbox as <c>--join</c> finds it: the pid of its init (the <c>vnet</c> process that is pid 1 of
/// its pid namespace, as the machine numbers it) and that process's start time, so a pid the kernel has since
/// given to another process is never taken for the sandbox.
/// </summary>
internal sealed record SandboxRecord(string Name, int Pid, ulong StartTime, IReadOnlyList<string> Published, bool Uplink);

/// <summary>
/// The records of the user's named sandboxes: <c>$XDG_RUNTIME_DIR/vnet/sandboxes/NAME.json</c>, or
/// <c>/tmp/vnet-UID/sandboxes</c> without XDG_RUNTIME_DIR. The directory must be the user's and writable by no one
/// else (checked, as the state directory is): another user must not be able to point <c>--join</c> elsewhere.
/// A record outlives a sandbox killed with SIGKILL; it is recognised as stale (its process is gone or is another
/// one) and replaced or removed.
/// </summary>
internal sealed class SandboxRecords(string directory)
{
    public string Directory { get; } = directory;

    public static SandboxRecords ForThisUser()
    {
        string root = Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR") is { Length: > 0 } runtime && runtime.StartsWith('/')
            ? Path.Combine(runtime, "vnet")
            : $"/tmp/vnet-{SandboxNative.EffectiveUserId.ToString(CultureInfo.InvariantCulture)}";
        return new SandboxRecords(Path.Combine(root, "sandboxes"));
    }

    public string PathOf(string name) => Path.Combine(Directory, name + ".json");

    /// <summary>The record of <paramref name="name"/> when that sandbox is running; a stale record is removed.</summary>
    public SandboxRecord? Running(string name)
    {
        string path = PathOf(name);
        if (!File.Exists(path)) return null;
        CheckDirectory(create: false);
        SandboxRecord? record;
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(path));
            var root = document.RootElement;
            record = new SandboxRecord(
                root.GetProperty("name").GetString() ?? name,
                root.GetProperty("pid").GetInt32(),
                root.GetProperty("startTime").GetUInt64(),
                root.GetProperty("publish").EnumerateArray().Select(p => p.GetString() ?? "").ToList(),
                root.GetProperty("uplink").GetBoolean());
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            record = null;
        }
        if (record is not null && record.Name == name && IsAlive(record)) return record;
        File.Delete(path);
        return null;
    }

    /// <summary>The names of the sandboxes that are running (stale records removed on the way).</summary>
    public IReadOnlyList<string> RunningNames()
    {
        if (!System.IO.Directory.Exists(Directory)) return [];
        return System.IO.Directory.EnumerateFiles(Directory, "*.json")
            .Select(f => Path.GetFileNameWithoutExtension(f)!)
            .Where(n => SandboxName.Error(n) is null && Running(n) is not null)
            .Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>Writes the record atomically (a temporary file renamed over it), mode 0600.</summary>
    public void Write(SandboxRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (OperatingSystem.IsWindows()) throw new PlatformNotSupportedException("vnet runs on Linux");
        CheckDirectory(create: true);
        string path = PathOf(record.Name), temporary = $"{path}.{Environment.ProcessId}.tmp";
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite };
        using (var stream = new FileStream(temporary, options))
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("name", record.Name);
            json.WriteNumber("pid", record.Pid);
            json.WriteNumber("startTime", record.StartTime);
            json.WriteStartArray("publish");
            foreach (string p in record.Published) json.WriteStringValue(p);
            json.WriteEndArray();
            json.WriteBoolean("uplink", record.Uplink);
            json.WriteEndObject();
        }
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>Removes the record if it is still this sandbox's (a later sandbox of the same name keeps its own).</summary>
    public void Delete(SandboxRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        try
        {
            string path = PathOf(record.Name);
            using (var document = JsonDocument.Parse(File.ReadAllBytes(path)))
            {
                if (document.RootElement.GetProperty("pid").GetInt32() != record.Pid) return;
            }
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or JsonException or KeyNotFoundException or InvalidOperationException)
        {
            // Gone already, or replaced by something that is not ours to remove.
        }
    }

    /// <summary>The start time of a process (field 22 of /proc/PID/stat, in clock ticks after boot); null when it is gone.</summary>
    public static ulong? StartTimeOf(int pid)
    {
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        // The command name (field 2) is in parentheses and may hold spaces and ')': the fields after it start past the last ')'.
        string[] after = text[(text.LastIndexOf(')') + 2)..].Split(' ');
        return after.Length > 19 && ulong.TryParse(after[19], NumberStyles.None, CultureInfo.InvariantCulture, out ulong ticks) ? ticks : null;
    }

    private static bool IsAlive(SandboxRecord record) => StartTimeOf(record.Pid) == record.StartTime;

    private void CheckDirectory(bool create)
    {
        if (OperatingSystem.IsWindows()) throw new PlatformNotSupportedException("vnet runs on Linux");
        if (create && !System.IO.Directory.Exists(Directory))
        {
            string parent = Path.GetDirectoryName(Directory)!;
            const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
            if (!System.IO.Directory.Exists(parent)) System.IO.Directory.CreateDirectory(parent, Private);
            CheckOwnedByMe(parent);
            System.IO.Directory.CreateDirectory(Directory, Private);
        }
        CheckOwnedByMe(Path.GetDirectoryName(Directory)!);
        CheckOwnedByMe(Directory);
    }

    /// <summary>A real directory, this user's, writable by no one else (as ssh demands of ~/.ssh).</summary>
    private static void CheckOwnedByMe(string path)
    {
        var status = SandboxNative.Status(path) ?? throw new IOException($"sandbox records: {path} does not exist");
        const uint TypeMask = 0xF000, Directory = 0x4000, GroupOrOtherWrite = 0x12; // <sys/stat.h>: S_IFMT, S_IFDIR, S_IWGRP | S_IWOTH
        if ((status.Mode & TypeMask) != Directory) throw new IOException($"sandbox records: {path} is not a directory (remove it)");
        if (status.Owner != SandboxNative.EffectiveUserId)
            throw new IOException($"sandbox records: {path} is owned by uid {status.Owner}, not by you (uid {SandboxNative.EffectiveUserId}); vnet keeps sandbox records only in a directory of your own");
        if ((status.Mode & GroupOrOtherWrite) != 0)
            throw new IOException($"sandbox records: {path} is writable by others (mode {Convert.ToString(status.Mode & 0xFFF, 8)}): chmod go-w {path}");
    }
}
