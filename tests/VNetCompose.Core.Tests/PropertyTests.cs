using VNetCompose.TestSupport;
using System.Net;
using CsCheck;
using VNetCompose.Testing;
using VNetCompose.Kernel;
using VNetCompose.Kernel.Links;
using VNetCompose.Kernel.Links.Kinds;
using VNetCompose.Model;
using static VNetCompose.Core.Tests.Topologies;

namespace VNetCompose.Core.Tests;

/// <summary>
/// Random topologies (every link kind, parents across namespaces) from random starting states (empty, partial after a crash, drifted by hand, with
/// foreign objects): up converges with zero writes the second time, down leaves nothing owned and every
/// foreign object as it was, and a fault at any kernel write rolls back to the starting state.
/// </summary>
public sealed class PropertyTests
{
    private static readonly LabOptions Options = new("sbx", "p-");

    /// <summary>Choices in 0..999: shrinking toward 0 gives smaller topologies and simpler starting states.</summary>
    private static readonly Gen<int[]> Choices = Gen.Int[0, 999].Array[48];

    private enum Start { Empty, Partial, Drifted, Foreign, OtherTopology }

    /// <summary>One case: a topology, a starting state, and the choices that made them (for reproduction).</summary>
    private sealed record Case(Topology Topology, Start Start, int[] Choices)
    {
        public override string ToString() => $"{Start}: {Describe(Topology)}";
    }

    private sealed class Picker(int[] choices)
    {
        private int _next;
        public int Next(int bound) => bound <= 1 ? 0 : choices[_next++ % choices.Length] % bound;
        public bool Chance(int percent) => Next(100) < percent;
    }

    private static Case MakeCase(int[] choices)
    {
        var pick = new Picker(choices);
        var topology = RandomTopology(pick, "lab");
        return new Case(topology, (Start)pick.Next(5), choices);
    }

    private static Topology RandomTopology(Picker pick, string name)
    {
        int declared = 1 + pick.Next(3);
        var namespaceNames = Enumerable.Range(0, declared).Select(i => $"n{i}").ToList();
        var all = namespaceNames.Prepend("host").ToList();
        var bridges = all.Where(_ => pick.Chance(40))
            .Select(ns => Bridge("br", ns, pick.Chance(50) ? [$"10.{100 + all.IndexOf(ns)}.0.1/24"] : null,
                mtu: pick.Chance(30) ? 1450 : null, stp: pick.Chance(20)))
            .ToList();
        bool HasBridge(string ns) => bridges.Any(b => b.Namespace == ns);

        var veths = new List<VethSpec>();
        int vethCount = pick.Next(5);
        for (int i = 0; i < vethCount; i++)
        {
            string nsA = all[pick.Next(all.Count)], nsB = all[pick.Next(all.Count)];
            bool addressed = pick.Chance(70);
            int?[] mtus = [null, 1400, 9000];
            veths.Add(Veth(
                End(nsA, $"va{i}", addressed ? [$"10.{i}.0.1/24"] : null, mtu: mtus[pick.Next(3)], up: pick.Chance(85)),
                End(nsB, $"vb{i}", addressed && pick.Chance(80) ? [$"10.{i}.0.2/24", $"fd00:{i}::2/64"] : null,
                    HasBridge(nsB) && pick.Chance(50) ? "br" : null, up: pick.Chance(85))));
        }

        var taps = new List<LinkSpec>();
        int tapCount = pick.Next(3);
        for (int i = 0; i < tapCount; i++)
        {
            string ns = all[pick.Next(all.Count)];
            var mode = pick.Chance(50) ? TunMode.Tap : TunMode.Tun;
            taps.Add(Tap($"tp{i}", mode, ns, mode == TunMode.Tap && HasBridge(ns) && pick.Chance(50) ? "br" : null,
                pick.Chance(50) ? [$"10.{50 + i}.0.1/24"] : null, owner: pick.Chance(30) ? 1000 : null));
        }

        // Links of the other kinds, on parents anywhere in the lab (a veth end or a bridge, often in another namespace).
        var parents = veths.SelectMany(v => new[] { (v.A.Namespace, v.A.Name), (v.B.Namespace, v.B.Name) })
            .Concat(bridges.Select(b => (b.Namespace, b.Name))).ToList();
        var links = new List<LinkSpec>();
        int linkCount = pick.Next(4);
        for (int i = 0; i < linkCount; i++)
        {
            string ns = all[pick.Next(all.Count)];
            string? Parent(bool sameNamespace)
            {
                var candidates = sameNamespace ? parents.Where(p => p.Namespace == ns).ToList() : parents;
                if (candidates.Count == 0) return null;
                var (parentNs, parentName) = candidates[pick.Next(candidates.Count)];
                return parentNs == ns ? parentName : $"{parentNs}/{parentName}";
            }
            string[]? addresses = pick.Chance(40) ? [$"10.{150 + i}.0.1/24"] : null;
            LinkData data = pick.Next(6) switch
            {
                0 => new MacvlanData(pick.Chance(50) ? "bridge" : "private"),
                1 => new MacvtapData(Owner: pick.Chance(50) ? 1000 : null),
                2 => new IpvlanData(pick.Chance(50) ? "l2" : "l3"),
                3 => new VlanData(10 + i),
                4 => new VxlanData((uint)(100 + i), Remote: IPAddress.Parse($"198.51.100.{2 + i}"), Learning: pick.Chance(50)),
                _ => new DummyData(),
            };
            string? parent = data.Kind.Parent switch
            {
                ParentUse.Required => Parent(sameNamespace: false),
                ParentUse.Optional when pick.Chance(50) => Parent(sameNamespace: true),
                _ => null,
            };
            if (data.Kind.Parent == ParentUse.Required && parent is null) continue;
            links.Add(Link($"lk{i}", data, ns, parent, addresses));
        }

        var namespaces = namespaceNames.Select(ns =>
        {
            var routes = new List<RouteSpec>();
            // A gateway route through an addressed, up veth end A in this namespace.
            var gateway = veths.FirstOrDefault(v => v.A.Namespace == ns && v.A.Addresses.Count > 0 && v.A.Up);
            if (gateway is not null && pick.Chance(60))
            {
                int i = int.Parse(gateway.A.Name[2..], System.Globalization.CultureInfo.InvariantCulture);
                routes.Add(Route($"10.{200 + i}.0.0/16", via: $"10.{i}.0.2", metric: pick.Chance(30) ? 50 : null));
            }
            var sysctls = pick.Chance(40) ? new[] { Sysctl("net.ipv4.ip_forward", pick.Chance(50) ? "1" : "0") } : [];
            return Ns(ns, loopback: pick.Chance(80), sysctls: sysctls, routes: routes);
        }).ToList();

        var nat = all.Where(_ => pick.Chance(25)).Select(ns => (NatRule)Masquerade(ns, "10.0.0.0/8", pick.Chance(50) ? "!br" : null)).ToList();
        return Topology(name, namespaces, bridges, veths, taps, nat, links);
    }

    private static string Describe(Topology t) =>
        $"namespaces [{string.Join(",", t.Namespaces.Select(n => n.Name))}] bridges [{string.Join(",", t.Bridges.Select(b => b.Namespace))}] "
        + $"veths [{string.Join(",", t.Veths.Select(v => $"{v.A.Namespace}/{v.A.Name}-{v.B.Namespace}/{v.B.Name}"))}] "
        + $"taps [{string.Join(",", t.Taps.Select(x => $"{x.Namespace}/{x.Name}:{x.Kind}"))}] "
        + $"links [{string.Join(",", t.Links.Where(l => !l.Kind.IsSwitch && l.Data is not TunData).Select(x => $"{x.Namespace}/{x.Name}:{x.Kind}@{x.Parent}"))}] nat {t.Nat.Count}";

    /// <summary>A kernel and state directory holding the case's starting state (deterministic: same case, same state).</summary>
    private sealed class World : IDisposable
    {
        private readonly TempStateDir _state = new();

        public World(Case c)
        {
            Engine = new VNetEngine(Kernel, _state.Settings);
            var pick = new Picker(c.Choices.Reverse().ToArray());
            switch (c.Start)
            {
                case Start.Partial:
                    // A crash in the middle of an up: part of the work done, the state file naming it.
                    Kernel.FailWrite(1 + pick.Next(40), Errnos.EIO);
                    Engine.Up(c.Topology, Options, new UpOptions(NoRollback: true));
                    Kernel.ClearFaults();
                    break;
                case Start.Drifted:
                    Engine.Up(c.Topology, Options);
                    Drift(pick);
                    break;
                case Start.Foreign:
                    Kernel.CreateNamespace("sbx");
                    Kernel.CreateNamespace("p-foreign");
                    Kernel.CreateBridge(NetnsId.Named("sbx"), new BridgeRequest("fx", Mtu: 1400));
                    Kernel.AddAddress(NetnsId.Named("sbx"), "fx", IPAddress.Parse("192.0.2.1"), 24);
                    Kernel.CreateBridge(NetnsId.Named("p-foreign"), new BridgeRequest("fy", Alias: "vnet:someone-else"));
                    break;
                case Start.OtherTopology:
                    Engine.Up(RandomTopology(pick, "lab"), Options);
                    break;
            }
            StartDump = Kernel.Dump();
        }

        public InMemoryKernel Kernel { get; } = new();
        public VNetEngine Engine { get; }
        public string StartDump { get; }

        private void Drift(Picker pick)
        {
            foreach (var ns in Kernel.ListNamespaces().Select(NetnsId.Named))
            {
                // vnet's links (lo carries the namespace's owner marker: never deleted, see the namespace tests).
                foreach (var link in Kernel.Observe([ns])[ns].Links.Where(l => l.Alias is not null && l.Name != "lo"))
                {
                    // A veth deleted earlier in this loop took its peer along.
                    if (Kernel.Observe([ns])[ns].FindLink(link.Name) is null) continue;
                    switch (pick.Next(6))
                    {
                        case 0: Kernel.DeleteLink(ns, link.Name); break;
                        case 1: Kernel.UpdateLink(ns, link.Name, new LinkUpdate(Mtu: 1280)); break;
                        case 2: Kernel.UpdateLink(ns, link.Name, new LinkUpdate(Up: false)); break;
                        case 3: Kernel.AddAddress(ns, link.Name, IPAddress.Parse($"10.250.{pick.Next(200)}.1"), 24); break;
                    }
                }
                if (pick.Chance(30)) Kernel.WriteSysctl(ns, "net.ipv4.ip_forward", "1");
                // A NAT rule edited by hand (nft): one rule more, or the table emptied.
                if (Kernel.ReadNatTable(ns, "vnet-p-lab") is { } table && pick.Chance(50))
                {
                    var extra = new NatRuleState(NatChain.Postrouting, NatVerdictKind.Masquerade, IPNetwork.Parse("10.250.0.0/16"));
                    Kernel.ReplaceNatTable(ns, table with { Rules = pick.Chance(50) ? [.. table.Rules, extra] : [] });
                }
            }
        }

        public void Dispose() => _state.Dispose();
    }

    private static void UpConverges(World world, Topology topology)
    {
        var up = world.Engine.Up(topology, Options);
        up.Status.Should().BeOneOf([UpStatus.Applied, UpStatus.Unchanged], up.Outcome?.Failure?.Error.Message ?? "left to change: " + string.Join("; ",
            world.Engine.Plan(topology, Options).Changes.Select(c => $"{c.Object} {string.Join(", ", c.Attributes.Select(a => $"{a.Name} {a.Before} -> {a.After}"))}")));
        world.Engine.Plan(topology, Options).HasChanges.Should().BeFalse();
        int writes = world.Kernel.Writes;
        var again = world.Engine.Up(topology, Options);
        again.Status.Should().Be(UpStatus.Unchanged);
        world.Kernel.Writes.Should().Be(writes, "a second up of an unchanged topology writes nothing");
    }

    private static void DownLeavesNothingOwned(World world, Topology topology)
    {
        world.Engine.Down(topology, Options).Status.Should().Be(DownStatus.Removed);
        string dump = world.Kernel.Dump();
        dump.Should().NotContain("alias=vnet:lab").And.NotContain("proto 86").And.NotContain("nat vnet-");
        // The foreign links, and the namespaces vnet found (never deleted), are still there as they were.
        bool foundSbx = world.StartDump.Contains("link fx", StringComparison.Ordinal);
        foreach (var line in world.StartDump.Split('\n').Where(l => l.Contains("link f", StringComparison.Ordinal)
            || l.StartsWith("netns p-foreign", StringComparison.Ordinal) || (foundSbx && l.StartsWith("netns sbx", StringComparison.Ordinal))))
            dump.Should().Contain(line, "foreign objects are untouched");
        File.Exists(world.Engine.Store.PathOf("p-lab")).Should().BeFalse();
    }

    [Fact]
    public void Up_Converges_AndDown_LeavesNoOwnedObject_FromAnyStartingState()
    {
        Choices.Select(MakeCase).Sample(c =>
        {
            using var world = new World(c);
            UpConverges(world, c.Topology);
            DownLeavesNothingOwned(world, c.Topology);
            if (c.Start is Start.Empty) world.Kernel.Dump().Should().Be(world.StartDump);
        }, iter: 300);
    }

    [Fact]
    public void FaultAtAnyKernelWrite_RollsBackToTheStartingState_AndARerunConverges()
    {
        Choices.Select(MakeCase).Sample(c =>
        {
            int writes;
            bool deletes;
            using (var probe = new World(c))
            {
                int before = probe.Kernel.Writes;
                deletes = probe.Engine.Plan(c.Topology, Options).Steps.Any(s => s.IsDelete);
                probe.Engine.Up(c.Topology, Options).Succeeded.Should().BeTrue();
                writes = probe.Kernel.Writes - before;
            }
            for (int k = 1; k <= writes; k++)
            {
                using var world = new World(c);
                world.Kernel.FailWrite(world.Kernel.Writes + k, Errnos.EPERM);
                var failed = world.Engine.Up(c.Topology, Options);
                failed.Status.Should().Be(UpStatus.Failed, $"write {k} of {writes} fails");
                failed.Outcome!.RollbackErrors.Should().BeEmpty();
                // Deletes of owned objects the topology no longer wants cannot be undone; everything else is.
                if (!deletes) world.Kernel.Dump().Should().Be(world.StartDump, $"rollback after a fault at write {k}");
                UpConverges(world, c.Topology);
                DownLeavesNothingOwned(world, c.Topology);
            }
        }, iter: 40);
    }
}
