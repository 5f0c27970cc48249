using System.Diagnostics;
using VNetCompose.Core.Apply;

namespace VNetCompose.Cli.Output;

/// <summary>
/// A single self-overwriting line (<c>[ 120/600] create veth ...</c>) on a terminal, for applies long
/// enough to need one; silent when stdout is redirected. Redrawn at most ten times a second.
/// </summary>
internal sealed class ProgressLine(TextWriter output, int minimumSteps = 50) : IProgress<ApplyProgress>, IDisposable
{
    private readonly Stopwatch _sinceDraw = Stopwatch.StartNew();
    private int _width;

    public static bool Enabled => !Console.IsOutputRedirected;

    public void Report(ApplyProgress value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.Total < minimumSteps || (_sinceDraw.ElapsedMilliseconds < 100 && value.Done != value.Total)) return;
        _sinceDraw.Restart();
        string digits = value.Total.ToString(System.Globalization.CultureInfo.InvariantCulture);
        string line = $"[{value.Done.ToString(System.Globalization.CultureInfo.InvariantCulture).PadLeft(digits.Length)}/{digits}] {value.Step}";
        if (line.Length > 100) line = line[..100];
        output.Write("\r" + line.PadRight(_width));
        _width = line.Length;
    }

    public void Dispose()
    {
        if (_width > 0) output.Write("\r" + new string(' ', _width) + "\r");
    }
}
