using VNetCompose.Core;
using VNetCompose.Core.Rendering;
using VNetCompose.Kernel;
using VNetCompose.Model;
using VNetCompose.Kernel.Ovs;
using VNetCompose.Netlink;
using VNetCompose.Ovsdb.Driver;
using VNetCompose.Ovsdb.Rpc;

namespace VNetCompose;

/// <summary>A topology file has errors; <see cref="Exception.Message"/> lists every diagnostic.</summary>
public sealed class TopologyLoadException(IReadOnlyList<Diagnostic> diagnostics)
    : Exception("the topology has errors:\n" + string.Join('\n', diagnostics))
{
    public IReadOnlyList<Diagnostic> Diagnostics { get; } = diagnostics;
}

/// <summary>
/// A lab for a test suite: <see cref="Up(string, LabOptions?, IKernel?, VNetEngineSettings?)"/> brings a
/// topology up (or throws, leaving nothing behind) and <see cref="Dispose"/> tears it down whatever
/// happened in between. Use <c>--host-netns</c>-style <see cref="LabOptions"/> to keep it sandboxed.
/// <code>
/// using var lab = LabFixture.Up("topologies/docker0.yaml", new LabOptions(HostNetns: "ci-host", Prefix: "ci-"));
/// // ip netns exec ci-ubuntu1 ping 172.17.0.3 ...
/// </code>
/// </summary>
public sealed class LabFixture : IDisposable, IAsyncDisposable
{
    private readonly IKernel? _ownedKernel;
    private readonly IOvsDriver? _ownedOvs;
    private bool _disposed;

    private LabFixture(VNetEngine engine, Topology topology, LabOptions options, UpResult result, IKernel? ownedKernel, IOvsDriver? ownedOvs)
    {
        _ownedOvs = ownedOvs;
        Engine = engine;
        Topology = topology;
        Options = options;
        Result = result;
        _ownedKernel = ownedKernel;
    }

    public VNetEngine Engine { get; }
    public Topology Topology { get; }
    public LabOptions Options { get; }
    public UpResult Result { get; }
    public string Instance => Options.InstanceName(Topology.Name);

    /// <summary>The kernel name of a topology namespace (prefix and host mapping applied); null for an unmapped host.</summary>
    public string? Namespace(string topologyNamespace) => Options.MapNamespace(topologyNamespace).Name;

    /// <summary>Loads <paramref name="path"/> and brings it up; the netlink driver unless <paramref name="kernel"/> is given.</summary>
    /// <param name="ovsdb">The ovsdb-server of the topology's OVS bridges (<c>unix:/path</c>); default <c>$VNET_OVSDB</c>,
    /// else <c>unix:/var/run/openvswitch/db.sock</c>.</param>
    public static LabFixture Up(string path, LabOptions? options = null, IKernel? kernel = null, VNetEngineSettings? settings = null,
        string? ovsdb = null)
    {
        var loaded = TopologyLoader.LoadFile(path);
        if (loaded.Topology is null) throw new TopologyLoadException(loaded.Diagnostics);
        return Up(loaded.Topology, options, kernel, settings, ovsdb: ovsdb);
    }

    /// <summary>Brings <paramref name="topology"/> up; the netlink driver unless <paramref name="kernel"/> is given, the
    /// OVSDB driver at <paramref name="ovsdb"/> unless <paramref name="ovs"/> is given.</summary>
    public static LabFixture Up(Topology topology, LabOptions? options = null, IKernel? kernel = null, VNetEngineSettings? settings = null,
        IVNetLog? log = null, string? ovsdb = null, IOvsDriver? ovs = null)
    {
        ArgumentNullException.ThrowIfNull(topology);
        options ??= LabOptions.Default;
        var owned = kernel is null ? new NetlinkKernel() : null;
        var ownedOvs = ovs is null ? new OvsdbDriver(OvsdbEndpoint.Resolve(ovsdb)) : null;
        var engine = new VNetEngine(kernel ?? owned!, settings, log, ovs ?? ownedOvs);
        try
        {
            var result = engine.Up(topology, options);
            if (!result.Succeeded)
            {
                engine.Down(topology, options);
                throw new InvalidOperationException($"vnet up of {options.InstanceName(topology.Name)} failed ({result.Status}): "
                    + (result.Outcome?.Failure?.Error.Message ?? PlanTextRenderer.Render(result.Remaining ?? result.Plan)));
            }
            return new LabFixture(engine, topology, options, result, owned, ownedOvs);
        }
        catch
        {
            owned?.Dispose();
            ownedOvs?.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw;
        }
    }

    /// <summary>Tears the lab down; throws when something owned could not be removed (a CI run must know).</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        try
        {
            var result = Engine.Down(Topology, Options);
            if (!result.Succeeded)
            {
                throw new InvalidOperationException($"vnet down of {Instance} failed ({result.Status}): "
                    + (result.Outcome?.Failure?.Error.Message ?? PlanTextRenderer.Render(result.Remaining ?? result.Plan)));
            }
        }
        finally
        {
            _ownedKernel?.Dispose();
            _ownedOvs?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }
}
