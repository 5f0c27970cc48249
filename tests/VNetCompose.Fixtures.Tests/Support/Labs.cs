using System.Net.NetworkInformation;
using VNetCompose.Core;
using VNetCompose.Model;
using VNetCompose.TestSupport;

namespace VNetCompose.Fixtures.Tests.Support;

/// <summary>Topologies and independent views of the kernel (<c>ip netns list</c>, the state directory).</summary>
internal static class Labs
{
    /// <summary>The repository's two-namespaces example, copied to the output folder: net0/veth0 10.0.1.1 to net1/veth1 10.0.1.2.</summary>
    public static string TwoNamespacesPath => Path.Combine(AppContext.BaseDirectory, "topologies", "two-namespaces.yaml");

    public static Topology TwoNamespaces() => TopologyLoader.LoadFile(TwoNamespacesPath).Topology!;

    /// <summary>Named namespaces starting with <paramref name="prefix"/>, as <c>ip netns list</c> shows them.</summary>
    public static IReadOnlyList<string> NamespacesWithPrefix(string prefix) =>
        ProcessRunner.RunChecked("ip", "netns", "list")
            .Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(' ')[0])
            .Where(n => n.StartsWith(prefix, StringComparison.Ordinal))
            .Order(StringComparer.Ordinal).ToList();

    /// <summary>The interface names a process sees from inside a namespace (through netlink).</summary>
    public static IReadOnlyList<string> InterfaceNames() =>
        NetworkInterface.GetAllNetworkInterfaces().Select(i => i.Name).Order(StringComparer.Ordinal).ToList();

    /// <summary>Polls <paramref name="condition"/> until it holds or <paramref name="timeout"/> is over.</summary>
    public static async Task<bool> Eventually(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) return false;
            await Task.Delay(50);
        }
        return true;
    }
}

/// <summary>A private state directory (<c>VNET_STATE_DIR</c>) for a test.</summary>
internal sealed class TempStateDir : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("vnet-fx-state-").FullName;

    public VNetEngineSettings Settings => new() { StateDirectory = Path };

    /// <summary>Files in it (state files, lock files); empty when nothing of a lab is left.</summary>
    public IReadOnlyList<string> Files() => Directory.GetFiles(Path).Select(System.IO.Path.GetFileName).OfType<string>().Order().ToList();

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
