using VNetCompose.Core.Apply;

namespace VNetCompose.Cli.Output;

/// <summary>
/// Test hook for the signal tests: with <c>VNET_TEST_PAUSE_BEFORE_STEP=k</c>, an apply stops before its step k
/// (k = number of steps already applied; the step count means after the last one), prints
/// <c>vnet-test: paused before step k of N</c> on stderr and waits up to 30 s or until cancelled, so that a
/// test can send a signal at an exact step boundary. <c>k,busy</c> waits the 30 s whatever happens, as a step
/// stuck in the kernel would: a second signal must then end the process at once. Without the variable it is not used.
/// </summary>
internal sealed class StepPause(IProgress<ApplyProgress>? inner, int step, bool busy, TextWriter error, CancellationToken cancellation)
    : IProgress<ApplyProgress>
{
    public const string Variable = "VNET_TEST_PAUSE_BEFORE_STEP";
    private bool _paused;

    /// <summary><paramref name="inner"/> itself unless the variable names a step.</summary>
    public static IProgress<ApplyProgress>? Wrap(IProgress<ApplyProgress>? inner, TextWriter error, CancellationToken cancellation)
    {
        string[] value = (Environment.GetEnvironmentVariable(Variable) ?? "").Split(',');
        return int.TryParse(value[0], System.Globalization.CultureInfo.InvariantCulture, out int step) && step >= 0
            ? new StepPause(inner, step, value is [_, "busy"], error, cancellation)
            : inner;
    }

    public void Report(ApplyProgress value)
    {
        ArgumentNullException.ThrowIfNull(value);
        inner?.Report(value);
        if (_paused || value.Done != step) return;
        _paused = true;
        error.WriteLine($"vnet-test: paused before step {step} of {value.Total}");
        error.Flush();
        if (busy) Thread.Sleep(TimeSpan.FromSeconds(30));
        else cancellation.WaitHandle.WaitOne(TimeSpan.FromSeconds(30));
    }
}
