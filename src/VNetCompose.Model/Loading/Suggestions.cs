namespace VNetCompose.Model.Loading;

/// <summary>"did you mean" hints for misspelt keys and names.</summary>
public static class Suggestions
{
    /// <summary><c>; did you mean 'addresses'?</c> for the closest candidate, or an empty string when none is close.</summary>
    public static string DidYouMean(string input, IEnumerable<string> candidates)
    {
        string? best = null;
        int bestDistance = int.MaxValue;
        foreach (string candidate in candidates)
        {
            // A different first letter costs one more: typos rarely hit it ('adress' is 'addresses', not 'egress').
            int distance = Distance(input.ToLowerInvariant(), candidate.ToLowerInvariant())
                + (input.Length > 0 && candidate.Length > 0 && char.ToLowerInvariant(input[0]) != char.ToLowerInvariant(candidate[0]) ? 1 : 0);
            int allowed = Math.Max(1, Math.Max(input.Length, candidate.Length) / 3);
            if (distance <= allowed && distance < bestDistance)
            {
                best = candidate;
                bestDistance = distance;
            }
        }
        return best is null ? "" : $"; did you mean '{best}'?";
    }

    /// <summary>Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours.</summary>
    private static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++)
            d[i, 0] = i;
        for (int j = 0; j <= b.Length; j++)
            d[0, j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
            }
        }
        return d[a.Length, b.Length];
    }
}
