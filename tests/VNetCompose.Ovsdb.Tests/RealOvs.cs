using System.Text.Json;
using VNetCompose.Kernel.Ovs;
using VNetCompose.Ovsdb.Driver;
using VNetCompose.TestSupport;

namespace VNetCompose.Ovsdb.Tests;

/// <summary>
/// Per test: sandbox namespaces, a private ovsdb-server + ovs-vswitchd inside the namespace "sw" and a driver
/// connected to it. Disposal stops the daemons before the namespaces go, whatever the outcome.
/// </summary>
public abstract class RealOvsTestBase : IAsyncLifetime
{
    protected const string Owner = "ovstest";

    protected static readonly OvsBridgeSettings Netdev = new(OvsBridgeSettings.NetdevDatapath, Stp: false, OvsFailMode.Standalone);

    protected SandboxNamespaces Sandbox { get; } = new();

    protected string Switch { get; private set; } = "";

    protected OvsSandbox Ovs { get; private set; } = null!;

    protected OvsdbDriver Driver { get; private set; } = null!;

    public virtual Task InitializeAsync()
    {
        Switch = Sandbox.Create("sw");
        Ovs = OvsSandbox.Start(Switch);
        Driver = new OvsdbDriver(Ovs.Endpoint);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        if (Driver is not null) await Driver.DisposeAsync();
        Ovs?.Dispose();
        Sandbox.Dispose();
    }

    /// <summary>A veth pair created with iproute2 (independently of the code under test), each end in its
    /// namespace and up.</summary>
    protected static void Veth(string nsA, string nameA, string nsB, string nameB)
    {
        ProcessRunner.RunChecked("ip", "link", "add", "name", nameA, "netns", nsA, "type", "veth", "peer", "name", nameB, "netns", nsB);
        ProcessRunner.RunChecked("ip", "-n", nsA, "link", "set", nameA, "up");
        ProcessRunner.RunChecked("ip", "-n", nsB, "link", "set", nameB, "up");
    }

    /// <summary>ovs-vsctl's view of the Port table: name to (tag, trunks, vnet-instance).</summary>
    protected Dictionary<string, (int? Tag, int[] Trunks, string? Owner)> PortsByOvsVsctl() =>
        Ovs.List("Port").ToDictionary(
            row => row["name"].GetString()!,
            row => (Integers(row["tag"]).Cast<int?>().SingleOrDefault(), Integers(row["trunks"]).Order().ToArray(),
                StringMap(row["external_ids"]).GetValueOrDefault(OvsOwnership.InstanceKey)));

    /// <summary>ovs-vsctl's names of bridges.</summary>
    protected IReadOnlyList<string> BridgesByOvsVsctl() =>
        [.. Ovs.Vsctl("list-br").EnsureSuccess().StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries)];

    // ovs-vsctl --format=json prints OVSDB notation: an atom, ["set",[...]] or ["map",[[k,v],...]].
    private static IEnumerable<int> Integers(JsonElement value) =>
        value.ValueKind == JsonValueKind.Number ? [value.GetInt32()] : value[1].EnumerateArray().Select(v => v.GetInt32());

    private static Dictionary<string, string> StringMap(JsonElement value) =>
        value[1].EnumerateArray().ToDictionary(pair => pair[0].GetString()!, pair => pair[1].GetString()!);
}
