using System.Diagnostics;

namespace VNetCompose.Fixtures.Tests.Support;

/// <summary>
/// A separate process owning an isolated lab (tests/VNetCompose.LabHost): what a test host is to its labs,
/// to be killed by a test. Disposing kills it if it still runs and deletes whatever namespaces of its lab
/// are left (<c>ip netns del</c>), so a failing test leaves nothing either.
/// </summary>
internal sealed class LabHostProcess : IDisposable
{
    private readonly Process _process;
    private string? _prefix;

    private LabHostProcess(Process process) => _process = process;

    public int Pid => _process.Id;

    /// <summary>Starts the owner; with <paramref name="ownProcessGroup"/> it leads a process group of its own (setsid), like a command run from a terminal.</summary>
    /// <param name="hostNetns">An existing namespace for the topology's <c>host</c> (where an Open vSwitch runs); null: the isolated one.</param>
    /// <param name="ovsdb">The ovsdb-server of the topology's OVS bridges (VNET_OVSDB of the owner).</param>
    public static LabHostProcess Start(string topology, string label, string stateDirectory, bool ownProcessGroup = false,
        string? hostNetns = null, string? ovsdb = null)
    {
        var start = new ProcessStartInfo(ownProcessGroup ? "setsid" : "dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (ownProcessGroup) start.ArgumentList.Add("dotnet");
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "VNetCompose.LabHost.dll"), topology, label, stateDirectory })
        {
            start.ArgumentList.Add(a);
        }
        if (hostNetns is not null) start.ArgumentList.Add(hostNetns);
        if (ovsdb is not null) start.Environment["VNET_OVSDB"] = ovsdb;
        return new LabHostProcess(Process.Start(start)!);
    }

    /// <summary>Waits for its "up PREFIX INSTANCE" line.</summary>
    public async Task<(string Prefix, string Instance)> WaitUntilUp()
    {
        var line = await _process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
        if (line is null || !line.StartsWith("up ", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"the lab host did not come up: {line} {await _process.StandardError.ReadToEndAsync()}");
        }
        var parts = line.Split(' ');
        _prefix = parts[1];
        return (parts[1], parts[2]);
    }

    public void Send(string line)
    {
        _process.StandardInput.WriteLine(line);
        _process.StandardInput.Flush();
    }

    public Task WaitForExit() => _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));

    public void Dispose()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.Dispose();
        if (_prefix is null) return;
        foreach (var name in Labs.NamespacesWithPrefix(_prefix)) TestSupport.ProcessRunner.Run("ip", "netns", "del", name);
    }
}
