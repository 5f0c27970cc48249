using VNetCompose.Kernel;
using VNetCompose.Netlink.Events;

namespace VNetCompose.Netlink;

public sealed partial class NetlinkKernel : IKernelEvents
{
    /// <summary>
    /// Equivalent to: <c>ip monitor link address route netconf</c>, <c>tc monitor</c> and <c>nft monitor</c> in each namespace, plus
    /// <c>inotifywait /run/netns</c>. See <see cref="IKernelEvents.Subscribe"/>; the subscription has one thread
    /// of its own, waiting in epoll while nothing happens. Dispose the subscription before the driver.
    /// </summary>
    public IKernelEventSubscription Subscribe(IReadOnlyCollection<NetnsId> namespaces, KernelWatchOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(namespaces);
        return new NetlinkEventSubscription(_namespaces, namespaces.Distinct().ToList(), options ?? KernelWatchOptions.Default);
    }
}
