using VNetCompose.Core.Desired;
using VNetCompose.Core.Observation;
using VNetCompose.Core.Shaping;
using VNetCompose.Kernel;
using VNetCompose.Kernel.Links.Kinds;
using VNetCompose.Model;

namespace VNetCompose.Core.Planning;

/// <summary>
/// Shaping of declared links (<c>egress:</c>, <c>ingress:</c>, a veth pair's <c>impair:</c>): the qdisc each direction
/// needs (<see cref="QdiscTreeChooser"/>) against what the kernel has. Egress is the link's root qdisc; ingress is the
/// root qdisc of the link's ifb (a desired link of its own, see <see cref="IngressDevices"/>) plus the redirect from the
/// link's ingress to it. Changed in place, never by recreating a link. Ownership: vnet changes or deletes only root
/// qdiscs under its handles and redirects carrying its cookie; another tool's root qdisc or ingress filters on a link
/// the topology shapes are a conflict. Qdiscs of links the plan deletes or recreates go with them, unlisted (as their
/// addresses). Keys the kernel cannot honour (netem where sch_netem is missing) are refused here, with the key named.
/// </summary>
internal sealed class QdiscPlanner : IObjectPlanner
{
    public void Plan(PlanContext context) => new Planning(context).Run();

    private sealed class Planning(PlanContext context)
    {
        private readonly ObservedTrafficControl _tc = context.Observed.TrafficControl;
        private readonly LinkPlanning _links = new(context);

        /// <summary>How a redirect to a device that is gone (the kernel reports ifindex 0) is shown.</summary>
        private const string Vanished = "a deleted device";

        /// <summary>Problems already reported: a pair's impair: is both ends' egress, one message is enough.</summary>
        private readonly HashSet<(SourceLocation?, string)> _reported = [];

        public void Run()
        {
            foreach (var d in context.Desired.AllLinks.Where(l => l.Kind is not IfbKind))
            {
                var (fate, observed) = context.Fates[(d.Namespace, d.Name)];
                var kept = fate == Fate.Keep ? observed : null;
                if (Wanted(d.Egress) is not null) context.Objects.Add(new PlanObject(new QdiscObject(d.Object, ShapedDirection.Egress), []));
                if (Wanted(d.Ingress) is not null) context.Objects.Add(new PlanObject(new QdiscObject(d.Object, ShapedDirection.Ingress), []));
                if (fate == Fate.Conflict) continue;
                PlanEgress(d, kept);
                PlanIngress(d, kept);
            }
        }

        private static Impairment? Wanted(Impairment? impairment) => impairment is { IsEmpty: false } ? impairment : null;

        // ------------------------------------------------------------------ egress

        private void PlanEgress(DesiredLink d, LinkState? kept)
        {
            var address = new QdiscObject(d.Object, ShapedDirection.Egress);
            var root = kept is null ? null : _tc.Root(d.Namespace, kept.Index);
            if (Wanted(d.Egress) is not { } want)
            {
                if (root is { IsVNetRoot: true }) PlanDelete(address, d.Name, root);
                return;
            }
            if (Choose(d, want, "egress") is not { } qdisc) return;
            if (root is not null && RootQdiscRules.Foreign(d.Name, root.Kind, root.Handle) is { } foreign)
            {
                context.Conflicts.Add(new PlanConflict(address, Foreign(foreign, d.Name), want.Location ?? d.Location));
                return;
            }
            var before = root is { IsVNetRoot: true } ? root : null;
            if (before is not null && RootQdiscRules.Matches(before.Parameters, qdisc)) return;
            int change = context.AddChange(before is null ? ChangeAction.Create : ChangeAction.Change, address, Attributes(before?.Parameters, qdisc),
                location: want.Location ?? d.Location);
            context.AddStep(new ReplaceRootQdiscStep(change, address, d.Name, qdisc, before?.Parameters) { Needs = [d.Object] });
        }

        private void PlanDelete(QdiscObject address, string device, QdiscState root)
        {
            int change = context.AddChange(ChangeAction.Delete, address,
                QdiscText.Describe(root.Parameters ?? Unknown(root.Kind)).Select(p => new AttributeChange(p.Key, p.Value, null)).ToList(),
                context.Desired.TopologyName is null ? null : "not in the topology");
            context.AddStep(new DeleteRootQdiscStep(change, address, device, root.Parameters) { Needs = [new LinkObject(address.Namespace, device)] });
        }

        // ------------------------------------------------------------------ ingress

        private void PlanIngress(DesiredLink d, LinkState? kept)
        {
            var address = new QdiscObject(d.Object, ShapedDirection.Ingress);
            var redirects = kept is null ? [] : _tc.RedirectsOf(d.Namespace, kept.Index).ToList();
            var ours = redirects.FirstOrDefault(r => r.IsVNet);
            string ifb = IfbKind.NameFor(d.Name);
            var ifbObject = new LinkObject(d.Namespace, ifb);
            if (Wanted(d.Ingress) is not { } want)
            {
                if (ours is not null)
                {
                    // Before the ifb is deleted (not declared any more): a redirect to a vanished device drops what the link receives.
                    string? target = ours.TargetIndex == 0 ? null : ours.Target;
                    int change = context.AddChange(ChangeAction.Delete, address, [new("via", target ?? Vanished, null)],
                        context.Desired.TopologyName is null ? null : "not in the topology");
                    context.AddStep(new DeleteIngressRedirectStep(change, address, d.Name, target)
                    {
                        Needs = target is null ? [d.Object] : [d.Object, new LinkObject(d.Namespace, target)],
                    });
                }
                return;
            }
            if (_tc.Support?.MissingIngressRedirect() is { } missing)
            {
                Refuse(missing, want.Location ?? d.Location);
                return;
            }
            if (Choose(d, want, "ingress") is not { } qdisc) return;
            var at = want.Location ?? d.Location;
            var ingressQdisc = kept is null ? null : _tc.IngressQdisc(d.Namespace, kept.Index);
            if (ingressQdisc is { Kind: not "ingress" } || redirects.Any(r => !r.IsVNet))
            {
                context.Conflicts.Add(new PlanConflict(address,
                    $"{d.Name} has an {ingressQdisc?.Kind ?? "ingress"} qdisc with filters vnet did not add; vnet leaves it alone", at));
                return;
            }
            if (!context.Fates.TryGetValue((d.Namespace, ifb), out var ifbFate) || ifbFate.Fate == Fate.Conflict) return; // reported by the link planner
            var ifbKept = ifbFate.Fate == Fate.Keep ? ifbFate.Observed : null;
            var root = ifbKept is null ? null : _tc.Root(d.Namespace, ifbKept.Index);
            if (root is not null && RootQdiscRules.Foreign(ifb, root.Kind, root.Handle) is { } foreign)
            {
                context.Conflicts.Add(new PlanConflict(address, Foreign(foreign, ifb), at));
                return;
            }
            var before = root is { IsVNetRoot: true } ? root : null;
            bool setQdisc = before is null || !RootQdiscRules.Matches(before.Parameters, qdisc);
            bool setRedirect = ours is null || ours.Target != ifb || ifbKept is null;
            if (!setQdisc && !setRedirect) return;

            var attributes = setQdisc ? Attributes(before?.Parameters, qdisc) : [];
            bool fresh = before is null && ours is null;
            if (fresh) attributes.Insert(0, new("via", null, ifb));
            else if (setRedirect) attributes.Insert(0, new("via", ours is null ? "none" : ours.TargetIndex == 0 ? Vanished : ours.Target, ifb));
            int changeIndex = context.AddChange(fresh ? ChangeAction.Create : ChangeAction.Change, address, attributes, location: at);
            // The qdisc first, so that the first packet redirected is already shaped.
            if (setQdisc) context.AddStep(new ReplaceRootQdiscStep(changeIndex, address, ifb, qdisc, before?.Parameters) { Needs = [ifbObject] });
            if (setRedirect)
            {
                context.AddStep(new ReplaceIngressRedirectStep(changeIndex, address, d.Name, ifb, ifbKept is null || ours?.TargetIndex == 0 ? null : ours?.Target)
                {
                    Needs = [d.Object, ifbObject],
                });
            }
        }

        // ------------------------------------------------------------------ shared

        /// <summary>The qdisc for an impairment on this link, or null when a key cannot be honoured here (reported).</summary>
        private QdiscParameters? Choose(DesiredLink d, Impairment want, string direction)
        {
            int mtu = _links.ExpectedMtu(d) ?? context.FindLive(d.Namespace, d.Name)?.Mtu ?? Kernel.Links.LinkKind.EthernetMtu;
            var choice = QdiscTreeChooser.Choose(want, new ShapedLink(mtu));
            if (!choice.Succeeded)
            {
                foreach (var problem in choice.Problems) Refuse(problem.Message, KeyLocation(d, want, direction, problem.Key));
                return null;
            }
            if (_tc.Unavailable is { } unavailable)
            {
                Refuse($"shaping needs traffic control, and {unavailable}", want.Location ?? d.Location);
                return null;
            }
            var qdisc = choice.Root!;
            if (_tc.Support?.MissingQdisc(qdisc.Kind) is { } missing)
            {
                // The first key that asks for the missing qdisc, the others listed.
                var keys = qdisc is NetemParameters ? want.NetemKeysSet() : ["rate"];
                string others = keys.Count > 1 ? $" ({string.Join(", ", keys)} need it)" : "";
                Refuse(missing + others, KeyLocation(d, want, direction, keys[0]));
                return null;
            }
            return qdisc;
        }

        /// <summary>Where the key was written; for an impairment made in code, the link's location with the key's path.</summary>
        private static SourceLocation KeyLocation(DesiredLink d, Impairment want, string direction, string key)
        {
            if (want.KeyLocations.GetValueOrDefault(key) is { } written) return written;
            var at = want.Location ?? d.Location with { KeyPath = d.Location.KeyPath + "." + direction };
            return at with { KeyPath = at.KeyPath + "." + key };
        }

        private void Refuse(string message, SourceLocation at)
        {
            if (_reported.Add((at, message))) context.Problems.Add(PlanProblem.Error(message, at));
        }

        private static List<AttributeChange> Attributes(QdiscParameters? before, QdiscParameters after) =>
            QdiscText.Differences(before, after).Select(a => new AttributeChange(a.Name, a.Before, a.After)).ToList();

        private static string Foreign(string foreign, string device) =>
            $"{foreign} (tc qdisc del dev {device} root lets vnet shape it)";

        private static QdiscParameters Unknown(string kind) => new UnknownQdisc(kind);
    }

    /// <summary>A qdisc under vnet's handle that vnet does not decode (changed by hand to another kind).</summary>
    private sealed record UnknownQdisc(string KindName) : QdiscParameters
    {
        public override string Kind => KindName;
    }
}
