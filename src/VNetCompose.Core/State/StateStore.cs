using System.Globalization;
using System.Text.Json;
using VNetCompose.Core.Interop;
using VNetCompose.Core.Planning;
using VNetCompose.Kernel;
using VNetCompose.Model;

namespace VNetCompose.Core.State;

/// <summary>The state file could not be read or written: its path and why.</summary>
public sealed class StateFileException(string path, string reason, Exception? inner = null)
    : Exception($"state file {path}: {reason}", inner)
{
    /// <summary>The file.</summary>
    public string Path { get; } = path;
}

/// <summary>The state directory cannot be used safely (a symbolic link, a file, owned or writable by another user).</summary>
public sealed class StateDirectoryException(string path, string reason) : Exception($"state directory {path}: {reason}")
{
    /// <summary>The directory.</summary>
    public string Path { get; } = path;
}

/// <summary>One state file as <c>vnet ls</c> shows it: its record, or why it could not be read.</summary>
public sealed record StateEntry(string Instance, string Path, InstanceRecord? Record, string? Problem);

/// <summary>
/// Reads and writes the state files of a directory (default <c>/run/vnet</c>, or <c>$VNET_STATE_DIR</c>):
/// one <c>&lt;instance&gt;.json</c> per instance, mode 0600, replaced atomically (an exclusive temporary
/// under a random name, fsync, rename). The directory must be owned by the user and writable by no one
/// else, and no file in it is opened through a symbolic link (<see cref="Interop.StateDirectory"/>).
/// </summary>
/// <param name="directory">The state directory.</param>
/// <param name="durable">fsync each file before it replaces the old one (default), so it survives a power loss.</param>
public sealed class StateStore(string directory, bool durable = true)
{
    /// <summary>The environment variable that moves the state directory.</summary>
    public const string DirectoryVariable = "VNET_STATE_DIR";
    private const int FormatVersion = 1;
    private const string Suffix = ".json";

    /// <summary><c>$VNET_STATE_DIR</c> or <c>/run/vnet</c>.</summary>
    public static string DefaultDirectory =>
        Environment.GetEnvironmentVariable(DirectoryVariable) is { Length: > 0 } dir ? dir : "/run/vnet";

    /// <summary>The directory of the state files.</summary>
    public string Directory { get; } = directory;

    /// <summary>The state file of an instance; an invalid instance name (one that could leave the directory) is refused.</summary>
    public string PathOf(string instance) => System.IO.Path.Combine(Directory, FileName(instance));

    private static string FileName(string instance)
    {
        LabOptions.ValidateInstance(instance);
        return instance + Suffix;
    }

    /// <summary>The state file of <paramref name="instance"/>; null when there is none.</summary>
    /// <exception cref="StateFileException">It is not a vnet state file.</exception>
    public InstanceRecord? Read(string instance)
    {
        string name = FileName(instance);
        using var directory = StateDirectory.Open(Directory, create: false);
        return directory?.ReadFile(name) is { } bytes ? Parse(bytes, instance, PathOf(instance)) : null;
    }

    /// <summary>Every readable state file: the instances that are up (see <see cref="Entries"/> for the unreadable ones).</summary>
    public IReadOnlyList<InstanceRecord> List() => Entries().Select(e => e.Record).OfType<InstanceRecord>().ToList();

    /// <summary>
    /// Every state file, sorted by instance: its record, or why it cannot be read (a broken file does not hide
    /// the others). A missing directory has none; one that is not a safe directory is an error.
    /// </summary>
    public IReadOnlyList<StateEntry> Entries()
    {
        using var directory = StateDirectory.Open(Directory, create: false);
        if (directory is null) return [];
        var entries = new List<StateEntry>();
        foreach (string name in directory.List(Suffix))
        {
            string instance = name[..^Suffix.Length], path = System.IO.Path.Combine(Directory, name);
            if (NameRules.InstanceNameError(instance) is { } invalid)
            {
                entries.Add(new StateEntry(NameRules.Printable(instance), path, null, "not a vnet state file name: " + invalid));
                continue;
            }
            try
            {
                entries.Add(directory.ReadFile(name) is { } bytes
                    ? new StateEntry(instance, path, Parse(bytes, instance, path), null)
                    : new StateEntry(instance, path, null, "removed while listing"));
            }
            catch (StateFileException e)
            {
                entries.Add(new StateEntry(instance, path, null, e.Message[(e.Message.IndexOf(": ", StringComparison.Ordinal) + 2)..]));
            }
        }
        return entries;
    }

    /// <summary>
    /// The instances with a state file, sorted, without reading the files (one may be unreadable); a file whose
    /// name is not an instance name (see <see cref="Entries"/>) is left out. A missing directory has none.
    /// </summary>
    public IReadOnlyList<string> Instances()
    {
        using var directory = StateDirectory.Open(Directory, create: false);
        if (directory is null) return [];
        return directory.List(Suffix).Select(name => name[..^Suffix.Length])
            .Where(instance => NameRules.InstanceNameError(instance) is null).ToList();
    }

    /// <summary>Writes the state file of <paramref name="record"/>'s instance atomically (mode 0600).</summary>
    public void Write(InstanceRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        string name = FileName(record.Instance);
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            Serialize(json, record);
        using var directory = StateDirectory.Open(Directory, create: true)!;
        directory.WriteAtomically(name, buffer.WrittenSpan, durable);
    }

    /// <summary>Removes the state file (the lock file is removed by its holder: <see cref="InstanceLock.DeleteFile"/>).</summary>
    public void Delete(string instance)
    {
        string name = FileName(instance);
        using var directory = StateDirectory.Open(Directory, create: false);
        directory?.Delete(name);
    }

    private static void Serialize(Utf8JsonWriter json, InstanceRecord r)
    {
        json.WriteStartObject();
        json.WriteNumber("version", FormatVersion);
        json.WriteString("instance", r.Instance);
        json.WriteString("topology", r.TopologyName);
        json.WriteString("topologyPath", r.TopologyPath);
        json.WriteString("hostNetns", r.Options.HostNetns);
        json.WriteString("prefix", r.Options.Prefix);
        WriteStrings(json, "namespaces", r.Holdings.Namespaces);
        WriteStrings(json, "createdNamespaces", r.Holdings.CreatedNamespaces);
        json.WriteBoolean("usesCurrentNamespace", r.Holdings.UsesCurrentNamespace);
        WriteStrings(json, "natNamespaces", r.Holdings.NatNamespaces.Select(n => n.Name));
        json.WriteStartArray("sysctls");
        foreach (var s in r.Holdings.Sysctls)
        {
            json.WriteStartObject();
            json.WriteString("namespace", s.Namespace.Name);
            json.WriteString("key", s.Key);
            json.WriteString("value", s.Value);
            json.WriteEndObject();
        }
        json.WriteEndArray();
        if (r.Holdings.OvsEndpoint is { } ovsdb) json.WriteString("ovsdb", ovsdb);
        if (r.Holdings.NamespaceInodes.Count > 0)
        {
            json.WriteStartObject("namespaceInodes");
            foreach (var (name, inode) in r.Holdings.NamespaceInodes.OrderBy(p => p.Key, StringComparer.Ordinal)) json.WriteNumber(name, inode);
            json.WriteEndObject();
        }
        json.WriteString("updatedAt", r.UpdatedAt.ToString("O", CultureInfo.InvariantCulture));
        if (r.Owner is { } owner)
        {
            json.WriteStartObject("owner");
            json.WriteNumber("pid", owner.Pid);
            json.WriteNumber("startTime", owner.StartTime);
            json.WriteString("bootId", owner.BootId);
            json.WriteString("pidNamespace", owner.PidNamespace);
            json.WriteEndObject();
        }
        json.WriteEndObject();
    }

    private static void WriteStrings(Utf8JsonWriter json, string name, IEnumerable<string?> values)
    {
        json.WriteStartArray(name);
        foreach (var v in values) json.WriteStringValue(v);
        json.WriteEndArray();
    }

    private static InstanceRecord Parse(byte[] bytes, string instance, string path)
    {
        try
        {
            using var document = JsonDocument.Parse(bytes);
            return Parse(document.RootElement, instance);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            // JsonElement.GetProperty does not say which key it missed.
            string why = e is KeyNotFoundException ? "a required key is missing" : NameRules.Printable(e.Message);
            throw new StateFileException(path, "not a vnet state file (" + why + "); inspect it, then remove it", e);
        }
    }

    private static InstanceRecord Parse(JsonElement root, string instance)
    {
        int version = root.GetProperty("version").GetInt32();
        if (version != FormatVersion) throw new FormatException($"format version {version}, expected {FormatVersion}");
        var holdings = new Holdings(
            Strings(root, "namespaces").OfType<string>().ToList(),
            Strings(root, "createdNamespaces").OfType<string>().ToList(),
            root.GetProperty("usesCurrentNamespace").GetBoolean(),
            Strings(root, "natNamespaces").Select(n => new NetnsId(n)).ToList(),
            root.GetProperty("sysctls").EnumerateArray().Select(s => new SysctlOriginal(
                new NetnsId(s.GetProperty("namespace").GetString()),
                s.GetProperty("key").GetString()!, s.GetProperty("value").GetString()!)).ToList())
        {
            OvsEndpoint = root.TryGetProperty("ovsdb", out var ovsdb) ? ovsdb.GetString() : null,
            NamespaceInodes = root.TryGetProperty("namespaceInodes", out var inodes)
                ? inodes.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetUInt64(), StringComparer.Ordinal)
                : new Dictionary<string, ulong>(),
        };
        var record = new InstanceRecord(
            root.GetProperty("instance").GetString() ?? throw new FormatException("'instance' is null"),
            root.GetProperty("topology").GetString() ?? throw new FormatException("'topology' is null"),
            root.GetProperty("topologyPath").GetString(),
            new LabOptions(root.GetProperty("hostNetns").GetString(), root.GetProperty("prefix").GetString()),
            holdings,
            DateTimeOffset.Parse(root.GetProperty("updatedAt").GetString() ?? throw new FormatException("'updatedAt' is null"),
                CultureInfo.InvariantCulture),
            root.TryGetProperty("owner", out var owner) && owner.ValueKind == JsonValueKind.Object
                ? new LabOwner(owner.GetProperty("pid").GetInt32(), owner.GetProperty("startTime").GetUInt64(),
                    owner.GetProperty("bootId").GetString() ?? throw new FormatException("'owner.bootId' is null"),
                    owner.GetProperty("pidNamespace").GetString() ?? throw new FormatException("'owner.pidNamespace' is null"))
                : null);
        if (record.Instance != instance) throw new FormatException($"it names instance '{NameRules.Printable(record.Instance)}', not {instance}");
        CheckNames(record);
        return record;
    }

    /// <summary>A state file names what down deletes: every name in it must be one vnet could have written.</summary>
    private static void CheckNames(InstanceRecord record)
    {
        if (record.Options.Problems() is [var option, ..]) throw new FormatException(option);
        var namespaces = record.Holdings.Namespaces.Concat(record.Holdings.CreatedNamespaces)
            .Concat(record.Holdings.NatNamespaces.Select(n => n.Name)).Concat(record.Holdings.Sysctls.Select(s => s.Namespace.Name))
            .Concat(record.Holdings.NamespaceInodes.Keys);
        foreach (var name in namespaces.OfType<string>())
        {
            if (NameRules.NamespaceNameError(name) is { } error) throw new FormatException(error);
        }
    }

    private static IEnumerable<string?> Strings(JsonElement root, string name) =>
        root.GetProperty(name).EnumerateArray().Select(e => e.GetString());
}
