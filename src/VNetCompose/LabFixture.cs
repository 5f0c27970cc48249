using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using VNetCompose.Core;
using VNetCompose.Core.Rendering;
using VNetCompose.Core.State;
using VNetCompose.Kernel;
using VNetCompose.Kernel.Ovs;
using VNetCompose.Model;
using VNetCompose.Netlink;
using VNetCompose.Ovsdb.Driver;
using VNetCompose.Ovsdb.Rpc;
using VNetCompose.Reaping;

namespace VNetCompose;

/// <summary>A topology file has errors; <see cref="Exception.Message"/> lists every diagnostic.</summary>
public sealed class TopologyLoadException(IReadOnlyList<Diagnostic> diagnostics)
    : Exception("the topology has errors:\n" + string.Join('\n', diagnostics))
{
    /// <summary>Every error and warning of the file, with its line and column.</summary>
    public IReadOnlyList<Diagnostic> Diagnostics { get; } = diagnostics;
}

/// <summary>
/// A lab for a test suite: <see cref="UpAsync(string, LabOptions?, ILogger?, CancellationToken)"/> brings a
/// topology up (or throws, leaving nothing behind) and <see cref="DisposeAsync"/> tears it down whatever
/// happened in between. <see cref="this[string]"/> runs code, sockets and programs inside its namespaces.
/// <code>
/// await using var lab = await LabFixture.UpAsync("topologies/two-namespaces.yaml"); // isolated by default
/// using var client = lab["net0"].CreateSocket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
/// var ping = await lab["net0"].ExecAsync(["ping", "-c", "1", "10.0.1.2"]);
/// </code>
/// A lab made by a fixture belongs to the process that made it (recorded in its state file): if the process
/// dies without disposing it (killed, even with SIGKILL), a reaper process removes it within seconds, and
/// the next fixture start or <c>vnet gc</c> does at the latest. No two live fixtures share an instance.
/// </summary>
public sealed class LabFixture : IDisposable, IAsyncDisposable
{
    /// <summary>Instances held by live fixtures of this process, by state directory and instance name.</summary>
    private static readonly ConcurrentDictionary<string, byte> Held = new(StringComparer.Ordinal);

    private readonly IKernel? _ownedKernel;
    private readonly IOvsDriver? _ownedOvs;
    private readonly bool _realKernel;
    private readonly string _heldKey;
    private readonly ILogger _log;
    private readonly ConcurrentDictionary<string, LabNamespace> _namespaces = new(StringComparer.Ordinal);
    /// <summary>One shaping change at a time: each starts from the topology the last one left.</summary>
    private readonly SemaphoreSlim _shaping = new(1, 1);
    private Topology _topology;
    private int _disposed;

    private LabFixture(VNetEngine engine, Topology topology, LabOptions options, UpResult result, IKernel? ownedKernel,
        IOvsDriver? ownedOvs, bool realKernel, string heldKey, ILogger log)
    {
        _ownedOvs = ownedOvs;
        Engine = engine;
        _topology = topology;
        Options = options;
        Result = result;
        _ownedKernel = ownedKernel;
        _realKernel = realKernel;
        _heldKey = heldKey;
        _log = log;
    }

    /// <summary>The engine the lab was made with (plan, status, ...).</summary>
    public VNetEngine Engine { get; }

    /// <summary>
    /// The topology the lab matches: the one it was made from, with the shaping changes of
    /// <see cref="ShapeAsync"/> since (the teardown starts from it).
    /// </summary>
    public Topology Topology => Volatile.Read(ref _topology);

    /// <summary>Where the lab lives: its prefix and the namespace standing in for <c>host</c>.</summary>
    public LabOptions Options { get; }

    /// <summary>What bringing the lab up did.</summary>
    public UpResult Result { get; }

    /// <summary>The instance name: the prefix plus the topology's name (state file, ownership markers).</summary>
    public string Instance => Options.InstanceName(Topology.Name);

    /// <summary>The kernel name of a topology namespace (prefix and host mapping applied); null for an unmapped host.</summary>
    public string? Namespace(string topologyNamespace) => Options.MapNamespace(topologyNamespace).Name;

    /// <summary>
    /// A namespace of the lab by its name in the topology (<c>host</c> included when it is mapped to a
    /// namespace, as with <see cref="LabOptions.Isolated"/>): sockets, code and programs inside it.
    /// </summary>
    /// <exception cref="ArgumentException">The topology declares no such namespace, or <c>host</c> is the process's own namespace.</exception>
    public LabNamespace this[string topologyNamespace]
    {
        get
        {
            ArgumentNullException.ThrowIfNull(topologyNamespace);
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            return _namespaces.GetOrAdd(topologyNamespace, name =>
            {
                bool declared = name == Model.Topology.HostNamespace || Topology.Namespaces.Any(n => n.Name == name);
                if (!declared)
                {
                    throw new ArgumentException($"the topology {Topology.Name} declares no namespace '{name}' (it has: "
                        + string.Join(", ", Topology.Namespaces.Select(n => n.Name).Append(Model.Topology.HostNamespace)) + ")",
                        nameof(topologyNamespace));
                }
                string kernelName = Namespace(name) ?? throw new ArgumentException(
                    "'host' is the namespace this process runs in (the options map it to no namespace): use it directly, or LabOptions.Isolated()",
                    nameof(topologyNamespace));
                return new LabNamespace(this, name, kernelName);
            });
        }
    }

    internal bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>Logs a warning of the lab's (e.g. an <c>/etc/netns</c> file that could not be bound for a program).</summary>
    internal void Warn(string message) => _log.LogWarning("{Instance}: {Message}", Instance, message);

    /// <summary>
    /// Changes the shaping of one direction of one link mid-test (a test degrading a link and restoring it), as
    /// <see cref="VNetEngine.Shape"/> does: only that link's qdisc (for ingress also its ifb and redirect) is
    /// planned, changed in place and verified; the link is never recreated, nothing else is touched.
    /// <see cref="Topology"/> becomes the topology with that shaping, so the teardown and later changes start from it.
    /// <see cref="LabNamespace.SetEgressAsync"/> and <see cref="LabNamespace.SetIngressAsync"/> are the short forms.
    /// </summary>
    /// <param name="topologyNamespace">The link's namespace as the topology names it (<c>net0</c>, <c>host</c>).</param>
    /// <param name="link">The link's name: a veth end, a bridge, a tap or a <c>links:</c> entry.</param>
    /// <param name="direction">What the link sends (egress: its root qdisc) or receives (ingress: through an ifb).</param>
    /// <param name="impairment">The new shaping of that direction (<c>new Impairment { RateBitsPerSecond = 5_000_000 }</c>); null removes it.</param>
    /// <param name="cancellationToken">Stops between steps; a later change or the teardown converges from there.</param>
    /// <returns>What the change did (its plan holds only the shaping).</returns>
    /// <exception cref="ArgumentException">The topology declares no such link, or the impairment breaks a rule.</exception>
    /// <exception cref="InvalidOperationException">The change was refused (a kernel lacking the qdisc the impairment needs:
    /// the key is named, nothing was changed) or failed (what it did was undone); the lab keeps its shaping.</exception>
    public async Task<UpResult> ShapeAsync(string topologyNamespace, string link, ShapedDirection direction, Impairment? impairment,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(topologyNamespace);
        ArgumentNullException.ThrowIfNull(link);
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        await _shaping.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var topology = Topology;
            // Off the caller's thread, as UpAsync: the engine's kernel work is synchronous.
            var shaped = await Task.Run(() => Engine.Shape(topology, Options, topologyNamespace, link, direction, impairment,
                new UpOptions(Owner: LabOwner.Current), cancellationToken), CancellationToken.None).ConfigureAwait(false);
            var result = shaped.Result;
            if (!result.Succeeded)
            {
                throw new InvalidOperationException($"shaping the {direction.ToString().ToLowerInvariant()} of {topologyNamespace}/{link} in {Instance} failed ({result.Status}): "
                    + (result.Outcome?.Failure?.Error.Message ?? PlanTextRenderer.Render(result.Remaining ?? result.Plan)));
            }
            Volatile.Write(ref _topology, shaped.Topology);
            _log.LogDebug("{Instance}: {Direction} of {Namespace}/{Link} shaped with {Writes} kernel writes", Instance, direction,
                topologyNamespace, link, result.KernelWrites);
            return result;
        }
        finally
        {
            _shaping.Release();
        }
    }

    /// <summary>Throws unless the lab runs on the real kernel: an in-memory one has no namespaces to enter.</summary>
    internal void EnsureRealKernel()
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        if (!_realKernel) throw new NotSupportedException("this lab runs on an in-memory kernel: there is no namespace to run code in");
    }

    /// <summary>
    /// Loads <paramref name="path"/> and brings it up (see <see cref="UpAsync(Topology, LabOptions?, ILogger?, CancellationToken)"/>).
    /// </summary>
    /// <exception cref="TopologyLoadException">The file has errors (all of them are in the message).</exception>
    public static Task<LabFixture> UpAsync(string path, LabOptions? options = null, ILogger? logger = null,
        CancellationToken cancellationToken = default) =>
        UpAsync(Load(path), options, logger, null, null, cancellationToken);

    /// <summary>
    /// Brings <paramref name="topology"/> up on the real kernel and returns the lab, ready to use (links up).
    /// <paramref name="options"/> default to <see cref="LabOptions.Isolated"/>: a fresh prefix and a sandbox
    /// namespace for <c>host</c>. <paramref name="logger"/> receives every kernel step at Debug level.
    /// Cancelling undoes what was done and throws <see cref="OperationCanceledException"/>; any other failure
    /// also leaves nothing behind and throws.
    /// </summary>
    /// <exception cref="InstanceHeldException">A live fixture (of this or another process) or <c>vnet up</c> holds the instance.</exception>
    /// <exception cref="InvalidOperationException">The lab could not be brought up (the kernel's own message).</exception>
    public static Task<LabFixture> UpAsync(Topology topology, LabOptions? options = null, ILogger? logger = null,
        CancellationToken cancellationToken = default) =>
        UpAsync(topology, options, logger, null, null, cancellationToken);

    /// <summary>
    /// As <see cref="UpAsync(Topology, LabOptions?, ILogger?, CancellationToken)"/>, through
    /// <paramref name="kernel"/> (default: the netlink driver; the in-memory kernel of VNetCompose.Testing for
    /// tests of the engine, where <see cref="this[string]"/> cannot run code) and with <paramref name="settings"/>
    /// (state directory, timings). The topology's Open vSwitch bridges, if any, go through the ovsdb-server at
    /// <c>$VNET_OVSDB</c>, else <c>unix:/var/run/openvswitch/db.sock</c>.
    /// </summary>
    public static Task<LabFixture> UpAsync(Topology topology, LabOptions? options, ILogger? logger, IKernel? kernel,
        VNetEngineSettings? settings, CancellationToken cancellationToken = default) =>
        UpAsync(topology, options, logger, kernel, settings, null, null, cancellationToken);

    /// <summary>
    /// As <see cref="UpAsync(Topology, LabOptions?, ILogger?, IKernel?, VNetEngineSettings?, CancellationToken)"/>, for a
    /// topology with <c>ovs_bridges</c>: they go through the OVSDB driver at <paramref name="ovsdb"/> unless
    /// <paramref name="ovs"/> is given. ovs-vswitchd must run in the namespace the bridges are declared in (with
    /// <see cref="LabOptions.Isolated"/> options whose <c>host</c> is mapped to the namespace it runs in, for bridges in
    /// <c>host</c>). The state file records the endpoint, so the lab reaper, <c>vnet gc</c> and the next fixture
    /// start remove the lab's bridges and ports too when its process dies.
    /// </summary>
    /// <param name="topology">The topology.</param>
    /// <param name="options">Where the lab lives; default <see cref="LabOptions.Isolated"/>.</param>
    /// <param name="logger">Receives every kernel step and OVSDB transaction at Debug level.</param>
    /// <param name="kernel">The kernel driver; default the netlink one.</param>
    /// <param name="settings">State directory and timings.</param>
    /// <param name="ovsdb">The ovsdb-server of the topology's OVS bridges (<c>unix:/path</c>); default <c>$VNET_OVSDB</c>,
    /// else <c>unix:/var/run/openvswitch/db.sock</c>. Nothing connects unless the topology has OVS bridges.</param>
    /// <param name="ovs">An Open vSwitch driver to use instead (owned by the caller), e.g. the in-memory one of VNetCompose.Testing.</param>
    /// <param name="cancellationToken">Undoes what was done and throws <see cref="OperationCanceledException"/>.</param>
    public static async Task<LabFixture> UpAsync(Topology topology, LabOptions? options, ILogger? logger, IKernel? kernel,
        VNetEngineSettings? settings, string? ovsdb, IOvsDriver? ovs, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(topology);
        cancellationToken.ThrowIfCancellationRequested();
        options ??= LabOptions.Isolated();
        // Off the caller's thread: the engine's netlink work is synchronous (and never switches namespaces).
        return await Task.Run(() => Start(topology, options, logger, kernel, settings, ovsdb, ovs, cancellationToken), CancellationToken.None)
            .ConfigureAwait(false);
    }

    /// <summary>
    /// Loads <paramref name="path"/> and brings it up synchronously; <paramref name="options"/> default to
    /// <see cref="LabOptions.Default"/> (the topology as written), unlike <see cref="UpAsync(string, LabOptions?, ILogger?, CancellationToken)"/>.
    /// </summary>
    /// <param name="path">The topology file.</param>
    /// <param name="options">Where the lab lives; default <see cref="LabOptions.Default"/>.</param>
    /// <param name="kernel">The kernel driver; default the netlink one.</param>
    /// <param name="settings">State directory and timings.</param>
    /// <param name="ovsdb">The ovsdb-server of the topology's OVS bridges (<c>unix:/path</c>); default <c>$VNET_OVSDB</c>,
    /// else <c>unix:/var/run/openvswitch/db.sock</c>.</param>
    public static LabFixture Up(string path, LabOptions? options = null, IKernel? kernel = null, VNetEngineSettings? settings = null,
        string? ovsdb = null) =>
        Up(Load(path), options, kernel, settings, ovsdb: ovsdb);

    /// <summary>
    /// Brings <paramref name="topology"/> up synchronously (see <see cref="Up(string, LabOptions?, IKernel?, VNetEngineSettings?, string?)"/>);
    /// the netlink driver unless <paramref name="kernel"/> is given, the OVSDB driver at <paramref name="ovsdb"/> unless
    /// <paramref name="ovs"/> is given.
    /// </summary>
    /// <param name="topology">The topology.</param>
    /// <param name="options">Where the lab lives; default <see cref="LabOptions.Default"/>.</param>
    /// <param name="kernel">The kernel driver; default the netlink one.</param>
    /// <param name="settings">State directory and timings.</param>
    /// <param name="log">Receives every kernel step at Debug level.</param>
    /// <param name="ovsdb">The ovsdb-server of the topology's OVS bridges; default <c>$VNET_OVSDB</c>, else
    /// <c>unix:/var/run/openvswitch/db.sock</c>.</param>
    /// <param name="ovs">An Open vSwitch driver to use instead (owned by the caller).</param>
    public static LabFixture Up(Topology topology, LabOptions? options = null, IKernel? kernel = null, VNetEngineSettings? settings = null,
        ILogger? log = null, string? ovsdb = null, IOvsDriver? ovs = null)
    {
        ArgumentNullException.ThrowIfNull(topology);
        return Start(topology, options ?? LabOptions.Default, log, kernel, settings, ovsdb, ovs, CancellationToken.None);
    }

    /// <summary>The OVSDB driver for an endpoint a state file records (reaping a lab with OVS bridges).</summary>
    internal static IOvsDriver OpenOvsdb(string endpoint) => new OvsdbDriver(endpoint);

    private static Topology Load(string path)
    {
        var loaded = TopologyLoader.LoadFile(path);
        return loaded.Topology ?? throw new TopologyLoadException(loaded.Diagnostics);
    }

    private static LabFixture Start(Topology topology, LabOptions options, ILogger? logger, IKernel? kernel,
        VNetEngineSettings? settings, string? ovsdb, IOvsDriver? ovs, CancellationToken cancellationToken)
    {
        var log = logger ?? NullLogger.Instance;
        settings = (settings ?? new VNetEngineSettings()) with { DurableStateFiles = false }; // see DurableStateFiles
        string instance = options.InstanceName(topology.Name);
        string heldKey = Path.GetFullPath(settings.StateDirectory) + "/" + instance;
        if (!Held.TryAdd(heldKey, 0)) throw new InstanceHeldException(instance, LabOwner.Current);
        IKernel? owned = null;
        IOvsDriver? ownedOvs = null;
        try
        {
            owned = kernel is null ? new NetlinkKernel() : null;
            // Nothing connects until a topology or state file with OVS objects needs it.
            ownedOvs = ovs is null ? new OvsdbDriver(OvsdbEndpoint.Resolve(ovsdb)) : null;
            bool real = (kernel ?? owned) is NetlinkKernel;
            var engine = new VNetEngine(kernel ?? owned!, settings, log, ovs ?? ownedOvs);
            if (real) LabReaper.EnsureStarted(settings.StateDirectory, log);
            var result = UpOrUndo(engine, topology, options, log, cancellationToken);
            return new LabFixture(engine, topology, options, result, owned, ownedOvs, real, heldKey, log);
        }
        catch
        {
            owned?.Dispose();
            ownedOvs?.DisposeAsync().AsTask().GetAwaiter().GetResult();
            Held.TryRemove(heldKey, out _);
            throw;
        }
    }

    private static UpResult UpOrUndo(VNetEngine engine, Topology topology, LabOptions options, ILogger log,
        CancellationToken cancellationToken)
    {
        new OrphanReaper(engine, log, OpenOvsdb).Reap(cancellationToken);
        UpResult result;
        try
        {
            result = engine.Up(topology, options, new UpOptions(Owner: LabOwner.Current), cancellationToken);
            cancellationToken.ThrowIfCancellationRequested();
        }
        catch (OperationCanceledException)
        {
            // Only what this fixture recorded as its own: cancelled while waiting for another holder's lock, nothing is ours.
            if (engine.Store.Read(options.InstanceName(topology.Name))?.Owner == LabOwner.Current)
            {
                log.LogDebug("cancelled: undoing {Instance}", options.InstanceName(topology.Name));
                engine.Down(topology, options);
            }
            throw;
        }
        if (!result.Succeeded)
        {
            engine.Down(topology, options);
            throw new InvalidOperationException($"vnet up of {options.InstanceName(topology.Name)} failed ({result.Status}): "
                + (result.Outcome?.Failure?.Error.Message ?? PlanTextRenderer.Render(result.Remaining ?? result.Plan)));
        }
        return result;
    }

    /// <summary>Tears the lab down; throws when something owned could not be removed (a CI run must know).</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        TearDown();
    }

    /// <summary>Tears the lab down off the caller's thread; throws when something owned could not be removed.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        await Task.Run(TearDown).ConfigureAwait(false);
    }

    private void TearDown()
    {
        try
        {
            _shaping.Wait(); // a shaping change in flight finishes first (the lab is disposed: none starts after)
            var result = Engine.Down(Topology, Options);
            if (!result.Succeeded)
            {
                throw new InvalidOperationException($"vnet down of {Instance} failed ({result.Status}): "
                    + (result.Outcome?.Failure?.Error.Message ?? PlanTextRenderer.Render(result.Remaining ?? result.Plan)));
            }
            _log.LogDebug("{Instance} removed", Instance);
        }
        finally
        {
            _ownedKernel?.Dispose();
            _ownedOvs?.DisposeAsync().AsTask().GetAwaiter().GetResult();
            Held.TryRemove(_heldKey, out _);
        }
    }
}
