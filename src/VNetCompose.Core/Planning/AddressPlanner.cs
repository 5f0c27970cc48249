using System.Net.Sockets;
using VNetCompose.Core.Desired;
using VNetCompose.Model;

namespace VNetCompose.Core.Planning;

/// <summary>The addresses of each declared link: missing ones added, others on an owned link deleted (IPv6 link-local ones are the kernel's).</summary>
internal sealed class AddressPlanner : IObjectPlanner
{
    public void Plan(PlanContext context)
    {
        foreach (var link in context.Desired.AllLinks) Plan(context, link);
    }

    private static void Plan(PlanContext context, DesiredLink d)
    {
        var at = d.Object;
        foreach (var a in d.Addresses) context.Objects.Add(new PlanObject(new AddressObject(at, a), []));
        var (fate, link) = context.Fates[(d.Namespace, d.Name)];
        if (fate == Fate.Conflict) return;

        var present = fate == Fate.Keep
            ? context.Indexes.Of(d.Namespace)!.AddressesOf(link!.Index).Where(a => !a.Address.IsIPv6LinkLocal)
                .Select(a => new IfAddress(a.Address, a.PrefixLength)).ToList()
            : [];
        foreach (var extra in present.Where(p => !d.Addresses.Contains(p)))
        {
            int change = context.AddChange(ChangeAction.Delete, new AddressObject(at, extra), []);
            context.AddStep(new DeleteAddressStep(change, d.Namespace, d.Name, extra.Address, extra.PrefixLength) { Needs = [at] });
        }
        // The kernel drops a link's IPv6 addresses when it goes down (addrconf_ifdown, unless keep_addr_on_down):
        // those the topology keeps are added again after the plan takes the link down.
        var dropped = fate == Fate.Keep && link!.AdminUp && !d.Up
            ? present.Where(a => a.Address.AddressFamily == AddressFamily.InterNetworkV6 && d.Addresses.Contains(a)).ToHashSet()
            : [];
        foreach (var missing in d.Addresses.Where(a => !present.Contains(a) || dropped.Contains(a)))
        {
            int change = context.AddChange(ChangeAction.Create, new AddressObject(at, missing), [],
                dropped.Contains(missing) ? "the kernel drops IPv6 addresses of a link going down" : null, d.Location);
            context.AddStep(new AddAddressStep(change, d.Namespace, d.Name, missing.Address, missing.PrefixLength)
            {
                Needs = [at],
                MayExist = dropped.Contains(missing),
            });
        }
    }
}
