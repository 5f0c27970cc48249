using System.Globalization;
using VNetCompose.Kernel;
using VNetCompose.Netlink.Interop;
using VNetCompose.Netlink.Namespaces;
using VNetCompose.Netlink.Tc;
using VNetCompose.Netlink.Wire;

namespace VNetCompose.Netlink;

public sealed partial class NetlinkKernel : ITrafficControl
{
    /// <summary>The priority of vnet's ingress filter (the only filter on an ingress qdisc vnet owns).</summary>
    private const ushort RedirectPriority = 1;

    /// <summary>The action cookie marking vnet's ingress filter: "vnet" in ASCII (tc prints it as 766e6574).</summary>
    private static readonly byte[] VNetCookie = "vnet"u8.ToArray();

    private static readonly Lock ProbeLock = new();
    private static TrafficControlSupport? _probed;

    /// <summary>
    /// Tries each feature on <c>lo</c> of a new, empty namespace on the namespace thread (tbf and netem as
    /// root qdisc, the ingress qdisc, a u32 filter, a mirred redirect); the namespace vanishes with the
    /// socket, so nothing observable changes. The answer is kept for the life of the process.
    /// A kind the kernel lacks answers ENOENT ("Specified qdisc kind is unknown", "Unknown filter kind",
    /// "Failed to load TC action module"); any other refusal is thrown.
    /// </summary>
    public TrafficControlSupport ProbeTrafficControl()
    {
        lock (ProbeLock)
        {
            return _probed ??= NamespaceThread.RunInNewNamespace("probing traffic-control features", ProbeInside);
        }
    }

    private static TrafficControlSupport ProbeInside()
    {
        using var socket = NetlinkSocket.Open(NetlinkProtocol.Route);
        const int loopback = 1; // the only link of a new namespace
        var clock = PschedClock.Kernel;
        bool Try(string operation, Action<NetlinkMessageBuilder> build)
        {
            var request = new NetlinkMessageBuilder();
            build(request);
            try
            {
                socket.Execute(request, operation);
                return true;
            }
            catch (KernelException e) when (e.Errno is Errnos.ENOENT or Errnos.EOPNOTSUPP)
            {
                return false;
            }
        }
        bool tbf = Try("probing the tbf qdisc", b => QdiscMessages.New(b, QdiscRequest.Replace, loopback, TcHandle.Root, TcHandle.None,
            new TbfParameters(125_000, 2_000, 4_000), clock));
        bool netem = Try("probing the netem qdisc", b => QdiscMessages.New(b, QdiscRequest.Replace, loopback, TcHandle.Root, TcHandle.None,
            new NetemParameters(), clock));
        bool ingress = Try("probing the ingress qdisc", b => QdiscMessages.AddIngress(b, loopback));
        bool u32 = false, mirred = false;
        if (ingress)
        {
            // A u32 filter whose action redirects to lo itself: no packet flows in this namespace.
            u32 = Try("probing the u32 classifier and the mirred action",
                b => FilterMessages.AddRedirect(b, loopback, TcHandle.Ingress, RedirectPriority, loopback, []));
            mirred = u32;
            if (!u32)
            {
                // Tell which one is missing: the classifier alone has no action.
                u32 = Try("probing the u32 classifier", b => AddMatchAllWithoutAction(b, loopback));
            }
        }
        return new TrafficControlSupport(tbf, netem, ingress, u32, mirred);
    }

    /// <summary><c>tc filter add dev LINK parent ffff: protocol all prio 2 u32 match u32 0 0</c>, for the probe.</summary>
    private static void AddMatchAllWithoutAction(NetlinkMessageBuilder builder, int link)
    {
        builder.BeginMessage(TcMessageTypes.NEWTFILTER, Nl.NLM_F_CREATE | Nl.NLM_F_EXCL)
            .Struct(new TcMsg { Index = link, Parent = TcHandle.Ingress.Value, Info = (2u << 16) | 0x0300 })
            .String(Tca.KIND, "u32");
        int options = builder.BeginNested(Tca.OPTIONS);
        var selector = new TcU32SelOneKey { Flags = U32Attributes.TERMINAL, KeyCount = 1 };
        builder.Attribute(U32Attributes.SEL, System.Runtime.InteropServices.MemoryMarshal.AsBytes(
            new ReadOnlySpan<TcU32SelOneKey>(in selector)));
        builder.EndNested(options).EndMessage();
    }

    /// <summary>Equivalent to: <c>tc -s qdisc show</c> in the namespace.</summary>
    public IReadOnlyList<QdiscState> ListQdiscs(NetnsId ns)
    {
        string operation = $"listing qdiscs in {In(ns)}";
        var socket = RouteSocket(Namespace(ns, operation));
        var names = LinkNames(socket, operation);
        return DumpQdiscs(socket, operation).Select(q => State(NameOf(names, q.LinkIndex), q)).ToList();
    }

    /// <summary>
    /// Equivalent to: <c>tc qdisc replace dev LINK root handle H KIND ...</c>, with H the handle of vnet's
    /// current root qdisc (an in-place change) or vnet's other root handle (a fresh qdisc grafted in one step).
    /// </summary>
    public RootQdiscChange ReplaceRootQdisc(NetnsId ns, string link, QdiscParameters parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        string operation = $"setting the root qdisc of {link} in {In(ns)} to {Describe(parameters)}";
        var socket = RouteSocket(Namespace(ns, operation));
        int index = ResolveIndex(socket, link, operation, $"there is no link named {link}");
        var root = DumpQdiscs(socket, operation).FirstOrDefault(q => q.LinkIndex == index && q.Parent == TcHandle.Root);
        ThrowIfForeignRoot(root, link, operation);
        var (handle, change) = RootQdiscRules.Decide(root is null ? null : State(link, root), parameters);
        if (change == RootQdiscChange.Unchanged) return change;
        var request = new NetlinkMessageBuilder();
        QdiscMessages.New(request, QdiscRequest.Replace, index, TcHandle.Root, handle, parameters, PschedClock.Kernel);
        try
        {
            socket.Execute(request, operation);
        }
        catch (KernelException e) when (e.Errno == Errnos.ENOENT && e.KernelMessage?.Contains("unknown", StringComparison.OrdinalIgnoreCase) == true)
        {
            // "Specified qdisc kind is unknown": name the missing module.
            throw new KernelException(e.Errno, operation, RootQdiscRules.MissingKind(parameters.Kind) + KernelSays(e), e);
        }
        return change;
    }

    /// <summary>Equivalent to: <c>tc qdisc del dev LINK root handle H</c> for vnet's root qdisc.</summary>
    public bool DeleteRootQdisc(NetnsId ns, string link)
    {
        string operation = $"deleting the root qdisc of {link} in {In(ns)}";
        var socket = RouteSocket(Namespace(ns, operation));
        int index = ResolveIndex(socket, link, operation, $"there is no link named {link}");
        var root = DumpQdiscs(socket, operation).FirstOrDefault(q => q.LinkIndex == index && q.Parent == TcHandle.Root);
        ThrowIfForeignRoot(root, link, operation);
        if (root is null || root.Handle == TcHandle.None) return false;
        var request = new NetlinkMessageBuilder();
        QdiscMessages.DeleteRoot(request, index, root.Handle);
        try
        {
            socket.Execute(request, operation);
        }
        catch (KernelException e) when (e.Errno is Errnos.ENOENT or Errnos.EINVAL)
        {
            return false; // gone meanwhile
        }
        return true;
    }

    /// <summary>
    /// Equivalent to: <c>tc qdisc add dev LINK handle ffff: ingress</c> (unless there is one) and
    /// <c>tc filter add dev LINK parent ffff: protocol all prio 1 u32 match u32 0 0 action mirred egress
    /// redirect dev TARGET cookie 766e6574</c>, replacing vnet's filter if it redirects elsewhere.
    /// </summary>
    public void ReplaceIngressRedirect(NetnsId ns, string link, string target)
    {
        string operation = $"redirecting what {link} receives to {target} in {In(ns)}";
        var socket = RouteSocket(Namespace(ns, operation));
        int index = ResolveIndex(socket, link, operation, $"there is no link named {link}");
        int targetIndex = ResolveIndex(socket, target, operation, $"there is no link named {target} to redirect to");
        var ingress = DumpQdiscs(socket, operation).FirstOrDefault(q => q.LinkIndex == index && q.Parent == TcHandle.IngressParent);
        var request = new NetlinkMessageBuilder();
        if (ingress is null)
        {
            QdiscMessages.AddIngress(request, index);
        }
        else
        {
            var filters = DumpRedirects(socket, index, ingress.Kind, operation, out int otherFilters);
            if (ingress.Kind != "ingress" || otherFilters > 0 || filters.Any(f => !IsVNet(f)))
            {
                throw new KernelException(Errnos.EEXIST, operation,
                    $"{link} has an {ingress.Kind} qdisc with filters vnet did not add; vnet leaves it alone");
            }
            if (filters.Count == 1 && filters[0].TargetIndex == targetIndex && filters[0].ExtendedAction == MirredAttributes.TCA_EGRESS_REDIR)
            {
                return;
            }
            if (filters.Count > 0) FilterMessages.Delete(request, index, TcHandle.Ingress, RedirectPriority);
        }
        FilterMessages.AddRedirect(request, index, TcHandle.Ingress, RedirectPriority, targetIndex, VNetCookie);
        socket.Execute(request, operation);
    }

    /// <summary>Equivalent to: <c>tc qdisc del dev LINK ingress</c> when its only filter is vnet's, otherwise
    /// <c>tc filter del dev LINK parent ffff: prio 1</c> for vnet's filter alone.</summary>
    public bool DeleteIngressRedirect(NetnsId ns, string link)
    {
        string operation = $"removing the ingress redirect of {link} in {In(ns)}";
        var socket = RouteSocket(Namespace(ns, operation));
        int index = ResolveIndex(socket, link, operation, $"there is no link named {link}");
        var ingress = DumpQdiscs(socket, operation).FirstOrDefault(q => q.LinkIndex == index && q.Parent == TcHandle.IngressParent);
        if (ingress is null) return false;
        var filters = DumpRedirects(socket, index, ingress.Kind, operation, out int otherFilters);
        var ours = filters.Where(IsVNet).ToList();
        bool onlyOurs = ingress.Kind == "ingress" && otherFilters == 0 && ours.Count == filters.Count;
        if (ours.Count == 0 && !(onlyOurs && filters.Count == 0)) return false;
        var request = new NetlinkMessageBuilder();
        if (onlyOurs) QdiscMessages.DeleteIngress(request, index);
        else foreach (var priority in ours.Select(f => f.Priority).Distinct()) FilterMessages.Delete(request, index, FilterParent(ingress.Kind), priority);
        try
        {
            socket.Execute(request, operation);
        }
        catch (KernelException e) when (e.Errno is Errnos.ENOENT or Errnos.EINVAL)
        {
            return false;
        }
        return true;
    }

    /// <summary>Equivalent to: <c>tc filter show dev LINK ingress</c> for every link with an ingress or clsact qdisc.</summary>
    public IReadOnlyList<IngressRedirectState> ListIngressRedirects(NetnsId ns)
    {
        string operation = $"listing ingress redirects in {In(ns)}";
        var socket = RouteSocket(Namespace(ns, operation));
        var names = LinkNames(socket, operation);
        var result = new List<IngressRedirectState>();
        foreach (var ingress in DumpQdiscs(socket, operation).Where(q => q.Parent == TcHandle.IngressParent))
        {
            foreach (var f in DumpRedirects(socket, ingress.LinkIndex, ingress.Kind, operation, out _))
            {
                result.Add(new IngressRedirectState(NameOf(names, f.LinkIndex), f.LinkIndex, ingress.Kind, f.Priority,
                    NameOf(names, f.TargetIndex), f.TargetIndex, IsVNet(f)));
            }
        }
        return result;
    }

    private static bool IsVNet(DecodedRedirect redirect) => redirect.Cookie.AsSpan().SequenceEqual(VNetCookie);

    /// <summary>Where the ingress filters hang: <c>ffff:</c> on an ingress qdisc, <c>ffff:fff2</c> on clsact.</summary>
    private static TcHandle FilterParent(string kind) => kind == "clsact" ? TcHandle.Of(0xFFFF, TcHandles.MIN_INGRESS) : TcHandle.Ingress;

    private static List<DecodedQdisc> DumpQdiscs(NetlinkSocket socket, string operation)
    {
        var request = new NetlinkMessageBuilder(64);
        QdiscMessages.Dump(request);
        var result = new List<DecodedQdisc>();
        var clock = PschedClock.Kernel;
        socket.Dump(request, operation, message => result.Add(TcDecoder.Qdisc(message, clock)));
        return result;
    }

    /// <summary>The mirred redirects among a link's ingress filters; <paramref name="otherFilters"/> counts
    /// the filters that are something else (the u32 structure entries aside).</summary>
    private static List<DecodedRedirect> DumpRedirects(NetlinkSocket socket, int link, string qdiscKind, string operation, out int otherFilters)
    {
        var request = new NetlinkMessageBuilder(64);
        FilterMessages.Dump(request, link, FilterParent(qdiscKind));
        var result = new List<DecodedRedirect>();
        int others = 0;
        socket.Dump(request, operation, message =>
        {
            if (TcDecoder.Redirect(message) is { } redirect) result.Add(redirect);
            else if (!TcDecoder.IsU32Structure(message)) others++;
        });
        otherFilters = others;
        return result;
    }

    private static Dictionary<int, string> LinkNames(NetlinkSocket socket, string operation)
    {
        var request = new NetlinkMessageBuilder(64);
        Rtnetlink.LinkMessages.Dump(request);
        var names = new Dictionary<int, string>();
        socket.Dump(request, operation, message =>
        {
            var info = message.ReadStruct<IfInfoMsg>();
            foreach (var a in message.Attributes<IfInfoMsg>())
            {
                if (a.Type == Ifla.IFNAME) names[info.Index] = a.String();
            }
        });
        return names;
    }

    private static string NameOf(Dictionary<int, string> names, int index) =>
        names.TryGetValue(index, out var name) ? name : index.ToString(CultureInfo.InvariantCulture);

    private static void ThrowIfForeignRoot(DecodedQdisc? root, string link, string operation)
    {
        if (root is not null && RootQdiscRules.Foreign(link, root.Kind, root.Handle) is { } foreign)
            throw new KernelException(Errnos.EEXIST, operation, foreign);
    }

    private static QdiscState State(string link, DecodedQdisc q) => new(link, q.LinkIndex, q.Kind, q.Handle, q.Parent, q.Parameters, q.Statistics);

    /// <summary>The parameters in tc's words, for operation descriptions.</summary>
    private static string Describe(QdiscParameters parameters) => parameters switch
    {
        TbfParameters t => string.Create(CultureInfo.InvariantCulture,
            $"tbf rate {t.RateBytesPerSecond * 8}bit burst {t.BurstBytes}b limit {t.LimitBytes}b"),
        NetemParameters n => "netem" + NetemWords(n),
        _ => parameters.Kind,
    };

    private static string NetemWords(NetemParameters n)
    {
        var words = new List<string>();
        if (n.Delay != TimeSpan.Zero) words.Add($"delay {n.Delay.TotalMilliseconds.ToString(CultureInfo.InvariantCulture)}ms");
        if (n.Jitter != TimeSpan.Zero) words.Add($"jitter {n.Jitter.TotalMilliseconds.ToString(CultureInfo.InvariantCulture)}ms");
        if (!n.Loss.IsZero) words.Add($"loss {n.Loss}");
        if (!n.Duplicate.IsZero) words.Add($"duplicate {n.Duplicate}");
        if (!n.Corrupt.IsZero) words.Add($"corrupt {n.Corrupt}");
        if (!n.Reorder.IsZero) words.Add($"reorder {n.Reorder}");
        if (n.RateBytesPerSecond != 0) words.Add(string.Create(CultureInfo.InvariantCulture, $"rate {n.RateBytesPerSecond * 8}bit"));
        words.Add(string.Create(CultureInfo.InvariantCulture, $"limit {n.Limit}"));
        return " " + string.Join(' ', words);
    }
}
