using VNetCompose.Kernel;

namespace VNetCompose.Netlink.Tc;

/// <summary>
/// netem's delay distribution tables, generated here exactly as iproute2 generates the .dist files it
/// installs (netem/normal.c, netem/pareto.c, netem/paretonormal.c, from NISTnet): 4096 signed 16-bit
/// values, the inverse cumulative distribution scaled by NETEM_DIST_SCALE (8192). Generating them keeps
/// the driver independent of where (or whether) a distribution installed the files; the tests check the
/// result against the installed files and against the bytes tc sends.
/// </summary>
internal static class NetemDistributionTables
{
    private const int TableSize = 16384;
    private const double ParetoShape = 3.0;

    private static readonly Lazy<short[]> NormalTable = new(() => FromInverseCdf(InverseNormalCdf(), (normal, _) => normal));
    private static readonly Lazy<short[]> ParetoTable = new(Pareto);
    private static readonly Lazy<short[]> ParetoNormalTable = new(() =>
        FromInverseCdf(InverseNormalCdf(), (normal, i) => (normal + 3 * ParetoValue(TableSize * 4 - 4 * i)) / 4));

    /// <summary>The table of <paramref name="distribution"/>; null for uniform (netem's built-in default).</summary>
    public static short[]? For(NetemDistribution distribution) => distribution switch
    {
        NetemDistribution.Uniform => null,
        NetemDistribution.Normal => NormalTable.Value,
        NetemDistribution.Pareto => ParetoTable.Value,
        NetemDistribution.ParetoNormal => ParetoNormalTable.Value,
        _ => throw new ArgumentOutOfRangeException(nameof(distribution), distribution, null),
    };

    /// <summary>
    /// normal.c: sweeps x from -10 to 10 in steps of 0.00005 (accumulated, as the C loop does) and records,
    /// for each of 16384 quantiles, the last x whose cumulative probability rounds to it.
    /// </summary>
    private static double[] InverseNormalCdf()
    {
        var table = new double[TableSize + 1];
        double sqrt2 = Math.Sqrt(2.0);
        for (double x = -10.0; x < 10.05; x += .00005)
        {
            double cdf = .5 + .5 * Erf(x / sqrt2);
            table[(int)Math.Round(TableSize * cdf, MidpointRounding.ToEven)] = x;
        }
        return table;
    }

    /// <summary>Every fourth quantile, scaled, combined by <paramref name="value"/>(normal value, quantile index), clamped to 16 bits.</summary>
    private static short[] FromInverseCdf(double[] quantiles, Func<int, int, int> value)
    {
        var result = new short[TableSize / 4];
        for (int i = 0; i < TableSize; i += 4)
        {
            int normal = (int)Math.Round(quantiles[i] * NetemAttributes.DistributionScale, MidpointRounding.ToEven);
            result[i / 4] = (short)Math.Clamp(value(normal, i), short.MinValue, short.MaxValue);
        }
        return result;
    }

    /// <summary>pareto.c: shape 3, shifted by 1.5 and scaled by 4/3, for i = 65536 down to 16 in steps of 16.</summary>
    private static short[] Pareto()
    {
        var result = new short[TableSize / 4];
        int n = 0;
        for (int i = 65536; i > 0; i -= 16) result[n++] = (short)ParetoValue(i);
        return result;
    }

    private static int ParetoValue(int i)
    {
        double value = (double)i / 65536;
        value = 1.0 / Math.Pow(value, 1.0 / ParetoShape);
        value -= 1.5;
        value *= 4.0 / 3.0 * NetemAttributes.DistributionScale;
        if (value > 32767) value = 32767;
        return (int)Math.Round(value, MidpointRounding.ToEven);
    }

    /// <summary>
    /// The error function to within a few ulps (the tables need only the rounding of 16384 * cdf to agree
    /// with glibc's erf, which the tests check against iproute2's files): erf(z) = 2/sqrt(pi) exp(-z^2) sum 2^n z^(2n+1) / (1*3*...*(2n+1)),
    /// a series of positive terms (no cancellation); beyond |z| = 6, erf is 1 to double precision.
    /// </summary>
    internal static double Erf(double z)
    {
        if (double.IsNaN(z)) return z;
        double a = Math.Abs(z);
        if (a >= 6) return Math.Sign(z);
        double term = a, sum = a, square = a * a;
        for (int n = 1; n < 1000; n++)
        {
            term *= 2 * square / (2 * n + 1);
            sum += term;
            if (term < sum * 1e-17) break;
        }
        double result = 2 / Math.Sqrt(Math.PI) * Math.Exp(-square) * sum;
        return z < 0 ? -result : result;
    }
}
