using VNetCompose.Core.Desired;
using VNetCompose.Kernel.Links.Kinds;

namespace VNetCompose.Core.Shaping;

/// <summary>
/// The ifb devices a topology needs: one per link with <c>ingress:</c>, in the link's namespace, named by
/// <see cref="IfbKind.NameFor"/>, up. They are desired links like any other (created, owned by the instance's marker,
/// checked for drift, deleted when no longer needed); their location is the <c>ingress:</c> key, so a kernel without ifb
/// is refused there.
/// </summary>
public static class IngressDevices
{
    /// <summary>The ifb links for <paramref name="links"/>, in their order.</summary>
    public static IEnumerable<DesiredLink> For(IEnumerable<DesiredLink> links)
    {
        ArgumentNullException.ThrowIfNull(links);
        foreach (var link in links.Where(l => l.Ingress is { IsEmpty: false }).ToList())
        {
            var at = link.Ingress!.Location is { } ingress ? ingress with { KeyPath = link.Location.KeyPath } : link.Location;
            yield return new DesiredLink(link.Namespace, IfbKind.NameFor(link.Name), new IfbData(), Mtu: null, Mac: null, Master: null,
                Up: true, Addresses: [], at);
        }
    }
}
