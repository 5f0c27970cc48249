using System.Globalization;
using System.Text;
using VNetCompose.Kernel;

namespace VNetCompose.Testing;

/// <summary>
/// Traffic control in the model, with the kernel's rules where vnet depends on them: every link has a root qdisc
/// (its default, handle 0: <c>noqueue</c> for links without a queue such as veths and bridges, <c>pfifo_fast</c>
/// for tun/tap and ifb; the built-in noop, left out of dumps, while the link is down) until one is set; qdiscs and ingress filters go with their link; a redirect whose target
/// link is deleted stays, naming ifindex 0; what is read back is what the kernel reports (a tbf's burst
/// rounded up to whole 64 ns ticks, a netem without its distribution). The decisions of
/// <see cref="ReplaceRootQdisc"/> are <see cref="RootQdiscRules"/>, as in the netlink driver. Features are those of
/// <see cref="TrafficControlSupport"/> (all by default); a missing one is refused as the kernel refuses it (ENOENT).
/// </summary>
public sealed partial class InMemoryKernel : ITrafficControl
{
    /// <summary>psched ticks per microsecond: a tick is 64 ns since Linux 2.6.24 (PSCHED_SHIFT in include/net/pkt_sched.h).</summary>
    private const double TicksPerMicrosecond = 15.625;

    /// <summary>The qdiscs, classifiers and actions this model's kernel has; tests set what a kernel without netem has.</summary>
    public TrafficControlSupport TrafficControlSupport { get; set; } = new(Tbf: true, Netem: true, Ingress: true, U32: true, Mirred: true);

    /// <inheritdoc/>
    public TrafficControlSupport ProbeTrafficControl()
    {
        lock (_gate) return TrafficControlSupport;
    }

    /// <inheritdoc/>
    public IReadOnlyList<QdiscState> ListQdiscs(NetnsId ns)
    {
        lock (_gate)
        {
            var netns = Find(ns, $"listing qdiscs in {In(ns)}");
            var result = new List<QdiscState>();
            foreach (var link in netns.Links.OrderBy(l => l.Index))
            {
                // A link that is down holds the built-in noop qdisc, which dumps leave out (TCQ_F_BUILTIN).
                if (link.Root is not null || link.AdminUp) result.Add(RootState(link));
                if (link.IngressQdisc is { } ingress)
                    result.Add(new QdiscState(link.Name, link.Index, ingress.Kind, TcHandle.Ingress, TcHandle.IngressParent, null, QdiscStatistics.None));
            }
            return result;
        }
    }

    /// <inheritdoc/>
    public RootQdiscChange ReplaceRootQdisc(NetnsId ns, string link, QdiscParameters parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        lock (_gate)
        {
            string op = $"setting the root qdisc of {link} in {In(ns)} to {parameters.Kind}";
            var (target, root) = WritableRoot(ns, link, op);
            var (handle, change) = RootQdiscRules.Decide(root, parameters);
            if (change == RootQdiscChange.Unchanged) return change;
            bool known = parameters switch
            {
                TbfParameters => TrafficControlSupport.Tbf,
                NetemParameters => TrafficControlSupport.Netem,
                _ => false,
            };
            if (!known) throw new KernelException(Errnos.ENOENT, op, RootQdiscRules.MissingKind(parameters.Kind) + " (kernel: Specified qdisc kind is unknown)");
            target.Root = new RootQdisc(handle, ReadBack(parameters));
            return change;
        }
    }

    /// <inheritdoc/>
    public bool DeleteRootQdisc(NetnsId ns, string link)
    {
        lock (_gate)
        {
            var (target, _) = WritableRoot(ns, link, $"deleting the root qdisc of {link} in {In(ns)}");
            if (target.Root is null) return false;
            target.Root = null;
            return true;
        }
    }

    /// <inheritdoc/>
    public void ReplaceIngressRedirect(NetnsId ns, string link, string target)
    {
        lock (_gate)
        {
            string op = $"redirecting what {link} receives to {target} in {In(ns)}";
            Write(op);
            var netns = Find(ns, op);
            var from = FindLink(netns, link, op);
            var to = netns.Links.FirstOrDefault(l => l.Name == target)
                ?? throw new KernelException(Errnos.ENODEV, op, $"there is no link named {target} to redirect to");
            if (TrafficControlSupport.MissingIngressRedirect() is { } missing) throw new KernelException(Errnos.ENOENT, op, missing);
            if (from.IngressQdisc is { } ingress)
            {
                if (ingress.Kind != "ingress" || ingress.Filters.Any(f => !f.IsVNet))
                    throw new KernelException(Errnos.EEXIST, op, $"{link} has an {ingress.Kind} qdisc with filters vnet did not add; vnet leaves it alone");
                ingress.Filters.Clear();
            }
            else
            {
                from.IngressQdisc = new IngressQdisc("ingress");
            }
            from.IngressQdisc.Filters.Add(new IngressFilter(1, to, IsVNet: true));
        }
    }

    /// <inheritdoc/>
    public bool DeleteIngressRedirect(NetnsId ns, string link)
    {
        lock (_gate)
        {
            string op = $"removing the ingress redirect of {link} in {In(ns)}";
            Write(op);
            var from = FindLink(Find(ns, op), link, op);
            if (from.IngressQdisc is not { } ingress) return false;
            int removed = ingress.Filters.RemoveAll(f => f.IsVNet);
            bool onlyOurs = ingress.Kind == "ingress" && ingress.Filters.Count == 0;
            if (onlyOurs) from.IngressQdisc = null;
            return removed > 0 || onlyOurs;
        }
    }

    /// <inheritdoc/>
    public IReadOnlyList<IngressRedirectState> ListIngressRedirects(NetnsId ns)
    {
        lock (_gate)
        {
            var netns = Find(ns, $"listing ingress redirects in {In(ns)}");
            // A redirect whose device is gone reports ifindex 0 (tcf_mirred_dump, net/sched/act_mirred.c; tc prints "*").
            return netns.Links.OrderBy(l => l.Index).Where(l => l.IngressQdisc is not null)
                .SelectMany(l => l.IngressQdisc!.Filters.Select(f => netns.Links.Contains(f.Target)
                    ? new IngressRedirectState(l.Name, l.Index, l.IngressQdisc.Kind, f.Priority, f.Target.Name, f.Target.Index, f.IsVNet)
                    : new IngressRedirectState(l.Name, l.Index, l.IngressQdisc.Kind, f.Priority, "0", 0, f.IsVNet)))
                .ToList();
        }
    }

    /// <summary>Installs a root qdisc vnet does not own (as <c>tc qdisc add dev LINK root handle 1: htb</c> would), for ownership tests.</summary>
    public void AddForeignRootQdisc(NetnsId ns, string link, string kind = "htb", ushort major = 1)
    {
        lock (_gate)
        {
            var target = FindLink(Find(ns, "adding a foreign qdisc"), link, "adding a foreign qdisc");
            BeginChange();
            target.Root = new RootQdisc(TcHandle.Of(major), null, kind);
        }
    }

    /// <summary>Adds an ingress filter vnet does not own (another tool's), for ownership tests.</summary>
    public void AddForeignIngressFilter(NetnsId ns, string link, string target, ushort priority = 49152)
    {
        lock (_gate)
        {
            var netns = Find(ns, "adding a foreign filter");
            var from = FindLink(netns, link, "adding a foreign filter");
            BeginChange();
            from.IngressQdisc ??= new IngressQdisc("ingress");
            from.IngressQdisc.Filters.Add(new IngressFilter(priority, FindLink(netns, target, "adding a foreign filter"), IsVNet: false));
        }
    }

    /// <summary>A write to the root qdisc of a link: counted (and maybe failed by an injected fault), refused when the link is
    /// missing (ENODEV) or its root qdisc is another tool's (EEXIST).</summary>
    private (Link Link, QdiscState Root) WritableRoot(NetnsId ns, string link, string op)
    {
        Write(op);
        var target = FindLink(Find(ns, op), link, op);
        var root = RootState(target);
        if (RootQdiscRules.Foreign(link, root.Kind, root.Handle) is { } foreign) throw new KernelException(Errnos.EEXIST, op, foreign);
        return (target, root);
    }

    private static QdiscState RootState(Link link) => link.Root is { } root
        ? new QdiscState(link.Name, link.Index, root.Kind, root.Handle, TcHandle.Root, root.Parameters, QdiscStatistics.None)
        : new QdiscState(link.Name, link.Index, link.DefaultQdisc, TcHandle.None, TcHandle.Root, null, QdiscStatistics.None);

    /// <summary>The parameters as a dump reports them (see the class summary).</summary>
    private static QdiscParameters ReadBack(QdiscParameters parameters) => parameters switch
    {
        TbfParameters tbf => tbf with { BurstBytes = RoundedBurst(tbf.RateBytesPerSecond, tbf.BurstBytes) },
        NetemParameters netem => netem with { Distribution = NetemDistribution.Uniform },
        _ => parameters,
    };

    /// <summary>tc sends the burst as ticks rounded up (tc_calc_xmittime); tc_calc_xmitsize turns them back into bytes.</summary>
    private static uint RoundedBurst(ulong rate, uint burst)
    {
        double ticks = Math.Ceiling(1_000_000 * ((double)burst / rate) * TicksPerMicrosecond);
        double bytes = rate * (ticks / TicksPerMicrosecond) / 1_000_000;
        return bytes >= uint.MaxValue ? uint.MaxValue : (uint)bytes;
    }

    private static void AppendTrafficControl(StringBuilder text, Link link)
    {
        if (link.Root is { } root)
            text.Append(CultureInfo.InvariantCulture, $"    qdisc root {root.Handle} {root.Kind} {root.Parameters}\n");
        foreach (var f in link.IngressQdisc?.Filters ?? [])
            text.Append(CultureInfo.InvariantCulture, $"    ingress prio {f.Priority} redirect {f.Target.Name}{(f.IsVNet ? " vnet" : "")}\n");
    }

    /// <summary>A root qdisc other than the default; <see cref="Parameters"/> null for kinds the model does not decode.</summary>
    private sealed record RootQdisc(TcHandle Handle, QdiscParameters? Parameters, string? ForeignKind = null)
    {
        public string Kind => Parameters?.Kind ?? ForeignKind ?? "unknown";
    }

    private sealed record IngressQdisc(string Kind)
    {
        public List<IngressFilter> Filters { get; } = [];
    }

    private sealed record IngressFilter(ushort Priority, Link Target, bool IsVNet);

    private sealed partial class Link
    {
        public RootQdisc? Root { get; set; }
        public IngressQdisc? IngressQdisc { get; set; }

        /// <summary>Links without a transmit queue (IFF_NO_QUEUE: veth, bridge, lo, ...) get noqueue, the others pfifo_fast.</summary>
        public string DefaultQdisc => Kind is "tun" or "ifb" ? "pfifo_fast" : "noqueue";

        /// <summary>IFLA_QDISC: a link that is down has noop until it is brought up (dev_activate).</summary>
        public string RootQdiscKind => Root?.Kind ?? (AdminUp ? DefaultQdisc : "noop");
    }
}
