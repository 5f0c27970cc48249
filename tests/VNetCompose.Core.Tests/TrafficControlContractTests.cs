using System.Globalization;
using VNetCompose.Kernel;
using VNetCompose.Kernel.Links.Kinds;
using VNetCompose.Netlink;
using VNetCompose.Testing;
using VNetCompose.TestSupport;

namespace VNetCompose.Core.Tests;

/// <summary>
/// One script of <see cref="ITrafficControl"/> calls run on the real kernel and on the in-memory one, whose transcripts
/// must be equal: what each call returns or refuses (errno and the words that matter), and what the namespace then
/// holds as the planner reads it (root and ingress qdiscs with their parameters, redirects, IFLA_QDISC of the link).
/// The planner's tests run on the model; this keeps the model honest. Foreign objects are made by tc on the real
/// kernel and by the model's helpers.
/// </summary>
public sealed class TrafficControlContractTests : IDisposable
{
    private const ulong Mbit10 = 10_000_000 / 8;
    private readonly SandboxNamespaces _sandbox = new();

    public void Dispose() => _sandbox.Dispose();

    [Fact]
    public void RealAndInMemoryKernel_AgreeOnTrafficControl()
    {
        string a = _sandbox.Create("a");
        List<string> real;
        using (var kernel = new NetlinkKernel())
        {
            real = Script(kernel, a, foreignRoot: () => ProcessRunner.RunChecked("tc", "-n", a, "qdisc", "replace", "dev", "eth0", "root", "handle", "1:", "htb"),
                foreignFilter: () => ProcessRunner.RunChecked("tc", "-n", a, "filter", "add", "dev", "eth1", "parent", "ffff:", "protocol", "all", "prio", "7",
                    "u32", "match", "u32", "0", "0", "action", "mirred", "egress", "redirect", "dev", "eth0"));
        }
        var model = new InMemoryKernel();
        using (var probe = new NetlinkKernel()) model.TrafficControlSupport = probe.ProbeTrafficControl();
        model.CreateNamespace(a);
        var modelled = Script(model, a, foreignRoot: () => model.AddForeignRootQdisc(NetnsId.Named(a), "eth0", "htb"),
            foreignFilter: () => model.AddForeignIngressFilter(NetnsId.Named(a), "eth1", "eth0", 7));

        modelled.Should().Equal(real);
    }

    private static List<string> Script(IKernel kernel, string nsName, Action foreignRoot, Action foreignFilter)
    {
        var ns = NetnsId.Named(nsName);
        var tc = kernel.TrafficControl!;
        var log = new List<string>();
        void Do(string what, Func<object> call)
        {
            try
            {
                log.Add($"{what}: {call()}");
            }
            catch (KernelException e)
            {
                log.Add($"{what}: errno {e.Errno}" + (e.Message.Contains("sch_netem", StringComparison.Ordinal) ? " sch_netem" : "")
                    + (e.Message.Contains("vnet did not install", StringComparison.Ordinal) ? " foreign root" : "")
                    + (e.Message.Contains("filters vnet did not add", StringComparison.Ordinal) ? " foreign filters" : ""));
            }
        }
        void State(string when)
        {
            var links = kernel.Observe([ns])[ns].Links.Where(l => l.Name != "lo").OrderBy(l => l.Name, StringComparer.Ordinal).ToList();
            foreach (var q in tc.ListQdiscs(ns).Where(q => q.Link != "lo").OrderBy(q => q.Link, StringComparer.Ordinal).ThenBy(q => q.Parent.Value))
            {
                // The default root's kind depends on net.core.default_qdisc: only its being the default is compared.
                string kind = q.IsDefault ? "default" : q.Kind;
                log.Add($"{when}: qdisc {q.Link} {kind} {q.Handle} parent {q.Parent} {q.Parameters}");
            }
            foreach (var r in tc.ListIngressRedirects(ns).OrderBy(r => r.Link, StringComparer.Ordinal).ThenBy(r => r.Priority))
                log.Add($"{when}: redirect {r.Link} {r.QdiscKind} prio {r.Priority} to {r.Target} vnet {r.IsVNet} target index known {r.TargetIndex != 0}");
            foreach (var l in links.Where(l => l.RootQdisc is "tbf" or "netem"))
                log.Add($"{when}: IFLA_QDISC {l.Name} {l.RootQdisc}");
        }

        kernel.CreateVeth(new VethEndRequest(ns, "eth0"), new VethEndRequest(ns, "eth1"));
        kernel.CreateLink(ns, new LinkRequest("ifb-eth1", new IfbData()));
        State("down");
        foreach (var link in new[] { "eth0", "eth1", "ifb-eth1" }) kernel.UpdateLink(ns, link, new LinkUpdate(Up: true));
        State("up");

        var small = new TbfParameters(Mbit10, 5_000, TbfParameters.LimitForLatency(Mbit10, 5_000, TimeSpan.FromMilliseconds(50)));
        var large = small with { BurstBytes = 20_000 };
        Do("tbf", () => tc.ReplaceRootQdisc(ns, "eth0", small));
        Do("same tbf", () => tc.ReplaceRootQdisc(ns, "eth0", small));
        Do("larger burst", () => tc.ReplaceRootQdisc(ns, "eth0", large));
        State("larger");
        Do("smaller burst", () => tc.ReplaceRootQdisc(ns, "eth0", small));
        State("smaller");
        Do("netem", () => tc.ReplaceRootQdisc(ns, "eth0", new NetemParameters { Delay = TimeSpan.FromMilliseconds(40), Limit = 2000 }));
        State("netem");
        Do("delete", () => tc.DeleteRootQdisc(ns, "eth0"));
        Do("delete again", () => tc.DeleteRootQdisc(ns, "eth0"));
        Do("on a missing link", () => tc.ReplaceRootQdisc(ns, "eth9", small));
        State("deleted");

        Do("redirect", () => { tc.ReplaceIngressRedirect(ns, "eth1", "ifb-eth1"); return "done"; });
        Do("redirect again", () => { tc.ReplaceIngressRedirect(ns, "eth1", "ifb-eth1"); return "done"; });
        Do("redirect to a missing device", () => { tc.ReplaceIngressRedirect(ns, "eth1", "ifb-none"); return "done"; });
        Do("shape the ifb", () => tc.ReplaceRootQdisc(ns, "ifb-eth1", small));
        State("redirected");
        kernel.DeleteLink(ns, "ifb-eth1");
        State("ifb deleted");
        Do("remove redirect", () => tc.DeleteIngressRedirect(ns, "eth1"));
        Do("remove redirect again", () => tc.DeleteIngressRedirect(ns, "eth1"));
        State("removed");

        foreignRoot();
        Do("tbf over a foreign root", () => tc.ReplaceRootQdisc(ns, "eth0", small));
        Do("delete a foreign root", () => tc.DeleteRootQdisc(ns, "eth0"));
        Do("ingress", () => tc.ProbeTrafficControl().IngressRedirect.ToString(CultureInfo.InvariantCulture));
        kernel.CreateLink(ns, new LinkRequest("ifb-eth1", new IfbData()));
        Do("redirect", () => { tc.ReplaceIngressRedirect(ns, "eth1", "ifb-eth1"); return "done"; });
        foreignFilter();
        Do("redirect beside a foreign filter", () => { tc.ReplaceIngressRedirect(ns, "eth1", "ifb-eth1"); return "done"; });
        Do("remove ours beside a foreign filter", () => tc.DeleteIngressRedirect(ns, "eth1"));
        State("foreign");
        return log;
    }
}
