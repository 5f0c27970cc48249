using VNetCompose.Kernel;
using VNetCompose.Kernel.Links;
using VNetCompose.Kernel.Links.Kinds;
using System.Net;
using VNetCompose.Core;
using VNetCompose.Core.Apply;
using VNetCompose.Model;

namespace VNetCompose.Core.Tests;

/// <summary>Builds <see cref="Topology"/> records directly, as the loader would.</summary>
internal static class Topologies
{
    public static SourceLocation At(string keyPath) => new("t.yaml", 1, 1, keyPath);

    /// <summary>The clone's root (where VNetCompose.sln is): the example topologies live under it.</summary>
    public static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "VNetCompose.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("VNetCompose.sln not found above " + AppContext.BaseDirectory);
    }

    public static IfAddress Addr(string cidr)
    {
        var parts = cidr.Split('/');
        return new IfAddress(IPAddress.Parse(parts[0]), int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture));
    }

    public static Topology Topology(string name, IEnumerable<NamespaceSpec>? namespaces = null, IEnumerable<LinkSpec>? bridges = null,
        IEnumerable<VethSpec>? veths = null, IEnumerable<LinkSpec>? taps = null, IEnumerable<NatRule>? nat = null,
        IEnumerable<LinkSpec>? links = null) =>
        new(1, name, "t.yaml", (namespaces ?? []).ToList(), [.. bridges ?? [], .. taps ?? [], .. links ?? []], (veths ?? []).ToList(),
            (nat ?? []).ToList());

    public static NamespaceSpec Ns(string name, bool loopback = true, IEnumerable<SysctlSpec>? sysctls = null,
        IEnumerable<RouteSpec>? routes = null) =>
        new(name, loopback, (sysctls ?? []).ToList(), (routes ?? []).ToList(), At($"namespaces.{name}"));

    public static SysctlSpec Sysctl(string key, string value) => new(key, value, At($"sysctls.{key}"));

    public static RouteSpec Route(string to, string? via = null, string? dev = null, int? metric = null) =>
        new(to == "default" ? new IPNetwork(IPAddress.Any, 0) : IPNetwork.Parse(to), via is null ? null : IPAddress.Parse(via),
            dev, metric, At("routes[0]"));

    public static VethEnd End(string ns, string name, string[]? addresses = null, string? bridge = null, int? mtu = null,
        bool up = true, string? mac = null) =>
        new(ns, name, (addresses ?? []).Select(Addr).ToList(), mtu, mac, bridge, up, At($"veths.{name}"));

    public static VethSpec Veth(VethEnd a, VethEnd b) => new(a, b, At("veths[0]"));

    public static LinkSpec Bridge(string name, string ns = "host", string[]? addresses = null, int? mtu = null,
        bool stp = false, bool vlanFiltering = false, bool up = true) =>
        new(name, LinkKinds.Bridge, ns, (addresses ?? []).Select(Addr).ToList(), mtu, null, null, up, null, new BridgeData(stp, vlanFiltering),
            At($"bridges.{name}"));

    public static LinkSpec Tap(string name, TunMode mode = TunMode.Tap, string ns = "host", string? bridge = null,
        string[]? addresses = null, int? owner = null) =>
        new(name, mode == TunMode.Tap ? LinkKinds.Tap : LinkKinds.Tun, ns, (addresses ?? []).Select(Addr).ToList(), null, null, bridge, true,
            null, new TunData(mode, owner), At($"taps.{name}"));

    /// <summary>A <c>links:</c> entry of any kind.</summary>
    public static LinkSpec Link(string name, LinkData data, string ns = "host", string? parent = null, string[]? addresses = null,
        string? bridge = null, int? mtu = null, bool up = true)
    {
        LinkParentSpec? parentSpec = parent is null ? null
            : parent.Contains('/') ? new LinkParentSpec(parent.Split('/')[0], parent.Split('/')[1], At($"links.{name}.parent"))
            : new LinkParentSpec(ns, parent, At($"links.{name}.parent"));
        return new(name, data.Kind, ns, (addresses ?? []).Select(Addr).ToList(), mtu, null, bridge, up, parentSpec, data, At($"links.{name}"));
    }

    public static MasqueradeRule Masquerade(string ns, string source, string? outIf = null) =>
        new(ns, IPNetwork.Parse(source), null, Match(outIf), At("nat[0]"));

    public static SnatRule Snat(string ns, string source, string to, string? outIf = null) =>
        new(ns, IPNetwork.Parse(source), null, IPAddress.Parse(to), Match(outIf), At("nat[1]"));

    public static PortForwardRule PortForward(string ns, int port, string to, int? toPort = null, string? inIf = null,
        string? destination = null, NatProtocol protocol = NatProtocol.Tcp) =>
        new(ns, protocol, port, IPAddress.Parse(to), toPort, Match(inIf), destination is null ? null : IPNetwork.Parse(destination), At("nat[2]"));

    private static InterfaceMatch? Match(string? name) =>
        name is null ? null : new InterfaceMatch(name.TrimStart('!'), name.StartsWith('!'));

    /// <summary>The two-namespaces example: net0/net1 joined by one veth.</summary>
    public static Topology TwoNamespaces(string name = "lab") => Topology(name,
        [Ns("net0"), Ns("net1")],
        veths: [Veth(End("net0", "veth0", ["10.0.1.1/24"]), End("net1", "veth1", ["10.0.1.2/24"]))]);

    /// <summary>The docker0 figure, host mapped by the options.</summary>
    public static Topology Docker0(string name = "docker0-lab") => Topology(name,
        [Ns("ubuntu1", routes: [Route("default", via: "172.17.0.1")]), Ns("ubuntu2", routes: [Route("default", via: "172.17.0.1")])],
        [Bridge("docker0", addresses: ["172.17.0.1/16"])],
        [
            Veth(End("ubuntu1", "eth0", ["172.17.0.2/16"]), End("host", "vethd52f2b1", bridge: "docker0")),
            Veth(End("ubuntu2", "eth0", ["172.17.0.3/16"]), End("host", "vethbb7c5c5", bridge: "docker0")),
        ],
        nat: [Masquerade("host", "172.17.0.0/16", "!docker0")]);

    /// <summary>
    /// Namespaces h1 and h2 on one veth, h1/eth0 (<c>SUBNET.1/24</c>) to h2/eth0 (<c>SUBNET.2/24</c>), loaded from YAML (so
    /// that shaping keys have line and column): <paramref name="aKeys"/> and <paramref name="bKeys"/> are more keys of each
    /// end (<c>, egress: { rate: 20mbit }</c>), <paramref name="impair"/> the pair's <c>impair:</c> mapping.
    /// </summary>
    public static Topology ShapedPair(string name, string file, string subnet, string aKeys = "", string bKeys = "", string impair = "") =>
        SandboxedEngine.Loaded(TopologyLoader.LoadText($$"""
            version: 1
            name: {{name}}
            namespaces:
              h1: {}
              h2: {}
            veths:
              - a: { namespace: h1, name: eth0, addresses: [{{subnet}}.1/24]{{aKeys}} }
                b: { namespace: h2, name: eth0, addresses: [{{subnet}}.2/24]{{bKeys}} }
            {{(impair.Length == 0 ? "" : "    impair: " + impair)}}
            """, file));

    public static ReconcileTimings FastTimings { get; } = new()
    {
        RetryDelay = TimeSpan.Zero,
        VanishTimeout = TimeSpan.FromSeconds(2),
        ConvergenceTimeout = TimeSpan.FromMilliseconds(200),
        ReadinessTimeout = TimeSpan.FromMilliseconds(200),
        PollInterval = TimeSpan.FromMilliseconds(1),
        NamespaceCreationTimeout = TimeSpan.FromMilliseconds(200),
    };
}

/// <summary>A temporary state directory removed at dispose.</summary>
internal sealed class TempStateDir : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("vnet-state-").FullName;

    public VNetEngineSettings Settings => new() { StateDirectory = Path, Timings = Topologies.FastTimings };

    public void Dispose() => Directory.Delete(Path, recursive: true);
}

/// <summary>Runs a callback when an apply reaches step <c>k</c> (k steps applied): Ctrl+C, or another process acting, between two steps.</summary>
internal sealed class AtStep(int step, Action action) : IProgress<ApplyProgress>
{
    public void Report(ApplyProgress value)
    {
        if (value.Done == step) action();
    }
}
