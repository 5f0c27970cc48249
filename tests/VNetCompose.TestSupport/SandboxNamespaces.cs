using System.Security.Cryptography;

namespace VNetCompose.TestSupport;

/// <summary>
/// Named namespaces private to one test run: every name starts with a unique prefix
/// (<c>vt&lt;6 hex&gt;-</c>), and <see cref="Dispose"/> deletes every namespace carrying it, whether the test
/// created it through this class, through the code under test, or not at all. Namespaces are created
/// for setup with <c>ip netns add</c>, independently of the code under test.
/// </summary>
public sealed class SandboxNamespaces : IDisposable
{
    private const string RunDirectory = "/run/netns";
    private readonly List<string> _names = [];
    private bool _disposed;

    public SandboxNamespaces(string tag = "vt")
    {
        Prefix = $"{tag}{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3))}-";
    }

    /// <summary>The run's prefix, e.g. <c>vt1a2b3c-</c>.</summary>
    public string Prefix { get; }

    /// <summary>The full name for <paramref name="shortName"/>; nothing is created.</summary>
    public string Name(string shortName) => Prefix + shortName;

    /// <summary>Creates <c>PREFIX+shortName</c> with <c>ip netns add</c> and returns the full name.</summary>
    public string Create(string shortName)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        string name = Name(shortName);
        ProcessRunner.RunChecked("ip", "netns", "add", name);
        lock (_names) _names.Add(name);
        return name;
    }

    /// <summary>Namespaces of this run that exist now.</summary>
    public IReadOnlyList<string> Existing() => ListWithPrefix(Prefix);

    /// <summary>Runs a command inside one of the sandbox namespaces (<c>ip netns exec</c>).</summary>
    public CommandResult Exec(string shortOrFullName, params string[] command) =>
        ProcessRunner.Run("ip", ["netns", "exec", FullName(shortOrFullName), .. command], ProcessRunner.DefaultTimeout);

    private string FullName(string name) => name.StartsWith(Prefix, StringComparison.Ordinal) ? name : Name(name);

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        List<string> names;
        lock (_names) names = [.. _names];
        // Whatever the outcome of the test: the ones we made, then a sweep of anything else with our prefix.
        foreach (var name in names.Concat(ListWithPrefix(Prefix)).Distinct())
        {
            ProcessRunner.Run("ip", "netns", "del", name);
        }
    }

    private static List<string> ListWithPrefix(string prefix) =>
        Directory.Exists(RunDirectory)
            ? Directory.EnumerateFileSystemEntries(RunDirectory)
                .Select(Path.GetFileName).OfType<string>()
                .Where(n => n.StartsWith(prefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList()
            : [];
}
