using System.Globalization;
using System.Text.Json;
using VNetCompose.Core.Planning;
using VNetCompose.Kernel;

namespace VNetCompose.Core.State;

/// <summary>The state file could not be read: its path and why.</summary>
public sealed class StateFileException(string path, string reason, Exception? inner = null)
    : Exception($"state file {path}: {reason}", inner);

/// <summary>
/// Reads and writes the state files of a directory (default <c>/run/vnet</c>, or <c>$VNET_STATE_DIR</c>):
/// one <c>&lt;instance&gt;.json</c> per instance, mode 0600, replaced atomically (temporary file, fsync, rename).
/// </summary>
/// <param name="directory">The state directory.</param>
/// <param name="durable">fsync each file before it replaces the old one (default), so it survives a power loss.</param>
public sealed class StateStore(string directory, bool durable = true)
{
    /// <summary>The environment variable that moves the state directory.</summary>
    public const string DirectoryVariable = "VNET_STATE_DIR";
    private const int FormatVersion = 1;

    /// <summary><c>$VNET_STATE_DIR</c> or <c>/run/vnet</c>.</summary>
    public static string DefaultDirectory =>
        Environment.GetEnvironmentVariable(DirectoryVariable) is { Length: > 0 } dir ? dir : "/run/vnet";

    /// <summary>The directory of the state files.</summary>
    public string Directory { get; } = directory;

    /// <summary>The state file of <paramref name="instance"/>.</summary>
    public string PathOf(string instance) => Path.Combine(Directory, instance + ".json");

    internal static void EnsureDirectory(string directory)
    {
        if (System.IO.Directory.Exists(directory)) return;
        if (OperatingSystem.IsWindows()) throw new PlatformNotSupportedException("vnet runs on Linux");
        System.IO.Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    /// <summary>The state file of <paramref name="instance"/>; null when there is none.</summary>
    /// <exception cref="StateFileException">It is not a vnet state file.</exception>
    public InstanceRecord? Read(string instance)
    {
        string path = PathOf(instance);
        if (!File.Exists(path)) return null;
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(path));
            return Parse(document.RootElement);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new StateFileException(path, "not a vnet state file (" + e.Message + "); inspect it, then remove it", e);
        }
    }

    /// <summary>Every readable state file: the instances that are up.</summary>
    public IReadOnlyList<InstanceRecord> List() => Instances().Select(Read).OfType<InstanceRecord>().ToList();

    /// <summary>The instances with a state file, sorted, without reading the files (one may be unreadable).</summary>
    public IReadOnlyList<string> Instances() =>
        System.IO.Directory.Exists(Directory)
            ? System.IO.Directory.GetFiles(Directory, "*.json").Select(Path.GetFileNameWithoutExtension).OfType<string>()
                .Order(StringComparer.Ordinal).ToList()
            : [];

    /// <summary>Writes the state file of <paramref name="record"/>'s instance atomically (mode 0600).</summary>
    public void Write(InstanceRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        EnsureDirectory(Directory);
        string path = PathOf(record.Instance);
        string temporary = $"{path}.{Environment.ProcessId}.tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var stream = new FileStream(temporary, options))
        {
            using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping })) Serialize(json, record);
            stream.Flush(flushToDisk: durable);
        }
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>Removes the state file (the lock file is removed by its holder: <see cref="InstanceLock.DeleteFile"/>).</summary>
    public void Delete(string instance) => File.Delete(PathOf(instance));

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

    private static InstanceRecord Parse(JsonElement root)
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
        };
        return new InstanceRecord(
            root.GetProperty("instance").GetString()!,
            root.GetProperty("topology").GetString()!,
            root.GetProperty("topologyPath").GetString(),
            new LabOptions(root.GetProperty("hostNetns").GetString(), root.GetProperty("prefix").GetString()),
            holdings,
            DateTimeOffset.Parse(root.GetProperty("updatedAt").GetString()!, CultureInfo.InvariantCulture),
            root.TryGetProperty("owner", out var owner) && owner.ValueKind == JsonValueKind.Object
                ? new LabOwner(owner.GetProperty("pid").GetInt32(), owner.GetProperty("startTime").GetUInt64(),
                    owner.GetProperty("bootId").GetString()!, owner.GetProperty("pidNamespace").GetString()!)
                : null);
    }

    private static IEnumerable<string?> Strings(JsonElement root, string name) =>
        root.GetProperty(name).EnumerateArray().Select(e => e.GetString());
}
