namespace VNetCompose.Netlink.Tests.Tc;

/// <summary>
/// The requests tc sent for a matrix of commands (Captures/capture.sh, strace): per file, the link indexes
/// the capture namespace had and, per case, the command and the request bytes.
/// </summary>
internal sealed class TcCaptures
{
    private readonly Dictionary<string, (string Command, byte[] Bytes)> _cases = [];

    private TcCaptures(string file)
    {
        foreach (string line in File.ReadLines(Path.Combine(AppContext.BaseDirectory, "Tc", "Captures", file)))
        {
            if (line.StartsWith('#'))
            {
                V0 = Index(line, "v0=");
                Ifb0 = Index(line, "ifb0=");
                continue;
            }
            string[] parts = line.Split('|');
            _cases[parts[0]] = (parts[1], Convert.FromHexString(parts[2]));
        }
    }

    /// <summary>Debian 12's tc: netem latency and jitter as 32-bit psched ticks in tc_netem_qopt.</summary>
    public static TcCaptures Tc61 { get; } = new("tc-6.1.0.txt");

    /// <summary>tc of iproute2 6.18 (built from source): netem latency and jitter as TCA_NETEM_LATENCY64/JITTER64.</summary>
    public static TcCaptures Tc618 { get; } = new("tc-6.18.0.txt");

    public int V0 { get; }
    public int Ifb0 { get; }

    public IEnumerable<string> Names => _cases.Keys;

    public string Command(string name) => _cases[name].Command;

    /// <summary>The request with its sequence number zeroed (tc stamps a time-based one).</summary>
    public byte[] Request(string name)
    {
        byte[] bytes = (byte[])_cases[name].Bytes.Clone();
        Array.Clear(bytes, 8, 4);
        return bytes;
    }

    private static int Index(string header, string key)
    {
        int at = header.IndexOf(key, StringComparison.Ordinal) + key.Length;
        int end = at;
        while (end < header.Length && char.IsAsciiDigit(header[end])) end++;
        return int.Parse(header[at..end], System.Globalization.CultureInfo.InvariantCulture);
    }
}
