namespace VNetCompose.Core.Apply;

/// <summary>
/// The pause between two polls of the kernel while waiting for it to settle: 1 ms first, doubling up to
/// <see cref="ReconcileTimings.PollInterval"/>. What is waited for usually happens within a few ms (a
/// port coming up, a deleted namespace's links vanishing), so a fixed interval cost up to its whole
/// length each time.
/// </summary>
internal struct PollBackoff(TimeSpan longest)
{
    private TimeSpan _next = TimeSpan.FromMilliseconds(1);

    public void Wait(CancellationToken cancellationToken)
    {
        if (_next > longest) _next = longest;
        cancellationToken.WaitHandle.WaitOne(_next);
        cancellationToken.ThrowIfCancellationRequested();
        _next *= 2;
    }
}
