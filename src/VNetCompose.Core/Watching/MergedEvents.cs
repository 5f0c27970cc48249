using System.Threading.Channels;
using VNetCompose.Kernel;

namespace VNetCompose.Core.Watching;

/// <summary>
/// The kernel's events and Open vSwitch's as one stream, for a lab with OVS objects. The merged queue is bounded like
/// the kernel's own (<see cref="KernelWatchOptions.QueueCapacity"/>), so a slow reader still makes the kernel's queues
/// overflow into a <see cref="ResyncNeeded"/> instead of growing memory. The stream ends when the kernel's does (with
/// its error); Open vSwitch's ending with an error (ovsdb-server gone) is one <see cref="OvsMonitorLost"/>, and the
/// kernel's events go on.
/// </summary>
internal sealed class MergedEvents : IDisposable
{
    private readonly Channel<KernelEvent> _merged;
    private readonly CancellationTokenSource _stop = new();

    public MergedEvents(ChannelReader<KernelEvent> kernel, ChannelReader<KernelEvent> ovs, int capacity)
    {
        _merged = Channel.CreateBounded<KernelEvent>(new BoundedChannelOptions(Math.Max(1, capacity)) { FullMode = BoundedChannelFullMode.Wait });
        _ = PumpAsync(kernel, isKernel: true);
        _ = PumpAsync(ovs, isKernel: false);
    }

    public ChannelReader<KernelEvent> Events => _merged.Reader;

    private async Task PumpAsync(ChannelReader<KernelEvent> source, bool isKernel)
    {
        Exception? error = null;
        try
        {
            while (await source.WaitToReadAsync(_stop.Token).ConfigureAwait(false))
            {
                while (source.TryRead(out var e)) await _merged.Writer.WriteAsync(e, _stop.Token).ConfigureAwait(false);
            }
        }
        catch (Exception) when (_stop.IsCancellationRequested)
        {
            return; // disposed
        }
        catch (Exception e)
        {
            error = e is ChannelClosedException { InnerException: { } inner } ? inner : e;
        }
        if (isKernel) _merged.Writer.TryComplete(error);
        else if (error is not null) _merged.Writer.TryWrite(new OvsMonitorLost(error.Message));
    }

    public void Dispose()
    {
        _stop.Cancel(); // (not disposed: the pumps may still look at its token)
        _merged.Writer.TryComplete();
    }
}

/// <summary>Open vSwitch's notifications stopped (ovsdb-server went away): what it holds is read again, and no longer followed.</summary>
internal sealed record OvsMonitorLost(string Reason) : KernelEvent(NetnsId.Current);
