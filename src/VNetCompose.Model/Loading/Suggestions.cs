namespace VNetCompose.Model.Loading;

/// <summary>"did you mean" hints for misspelt keys and names.</summary>
public static class Suggestions
{
    /// <summary><c>; did you mean 'addresses'?</c> for the closest candidate, or an empty string when none is close.</summary>
    public static string DidYouMean(string input, IEnumerable<string> candidates)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        string? best = null;
        int bestDistance = int.MaxValue;
        string lowered = input.ToLowerInvariant();
        foreach (string candidate in candidates)
        {
            int allowed = Allowed(input, candidate);
            if (Math.Abs(input.Length - candidate.Length) > allowed) continue; // the distance is at least that
            int distance = Score(input, lowered, candidate);
            if (distance <= allowed && distance < bestDistance)
            {
                best = candidate;
                bestDistance = distance;
            }
        }
        return Phrase(best);
    }

    private static int Allowed(string input, string candidate) => Math.Max(1, Math.Max(input.Length, candidate.Length) / 3);

    /// <summary>
    /// The distance between <paramref name="input"/> (<paramref name="lowered"/> is it in lower case) and a candidate,
    /// plus one when their first letters differ: typos rarely hit it ('adress' is 'addresses', not 'egress').
    /// Never less than the difference of their lengths.
    /// </summary>
    internal static int Score(string input, string lowered, string candidate) =>
        Distance(lowered, candidate.ToLowerInvariant())
        + (input.Length > 0 && candidate.Length > 0 && char.ToLowerInvariant(input[0]) != char.ToLowerInvariant(candidate[0]) ? 1 : 0);

    private static string Phrase(string? best) => best is null ? "" : $"; did you mean '{best}'?";

    /// <summary>Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours.</summary>
    public static int Distance(string a, string b)
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

/// <summary>
/// "did you mean" over many names (every declared namespace, every bridge of a namespace), in bounded time: the
/// candidates are indexed by length (a name more than a third longer or shorter is never close), each misspelt
/// name is answered once, and the comparisons of one whole file are capped at <see cref="ComparisonBudget"/>;
/// past it the hint is left out. A file with a hundred thousand references to undeclared names among a hundred
/// thousand declared ones would otherwise compare ten billion pairs.
/// </summary>
internal sealed class NameSuggestions
{
    /// <summary>Distance computations (of names of at most 32 characters) allowed per file: well under 100 ms.</summary>
    public const int ComparisonBudget = 200_000;

    private readonly Dictionary<string, string> _answers = new(StringComparer.Ordinal);
    private int _comparisons;

    /// <summary><c>; did you mean 'x'?</c> among <paramref name="candidates"/> (names grouped by length), or "".</summary>
    public string DidYouMean(string input, CandidateNames candidates)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        string key = candidates.Id + "\u0000" + input;
        if (_answers.TryGetValue(key, out string? known)) return known;
        (string Name, int Order)? best = null;
        int bestDistance = int.MaxValue;
        string lowered = input.ToLowerInvariant();
        int maxAllowed = Math.Max(1, Math.Max(input.Length, candidates.LongestLength) / 3);
        for (int length = Math.Max(0, input.Length - maxAllowed); length <= input.Length + maxAllowed; length++)
        {
            foreach (var candidate in candidates.OfLength(length))
            {
                if (_comparisons >= ComparisonBudget) return _answers[key] = Phrase(best?.Name);
                _comparisons++;
                int allowed = Math.Max(1, Math.Max(input.Length, candidate.Name.Length) / 3);
                if (Math.Abs(input.Length - candidate.Name.Length) > allowed) continue;
                int distance = Suggestions.Score(input, lowered, candidate.Name);
                // The closest; among equals the first declared, as a scan in file order finds it.
                if (distance <= allowed && (distance < bestDistance || (distance == bestDistance && candidate.Order < best!.Value.Order)))
                {
                    best = candidate;
                    bestDistance = distance;
                }
            }
        }
        return _answers[key] = Phrase(best?.Name);
    }

    private static string Phrase(string? best) => best is null ? "" : $"; did you mean '{best}'?";
}

/// <summary>A set of names to suggest from, grouped by length, in declaration order within a length.</summary>
internal sealed class CandidateNames
{
    private static int _nextId;
    private readonly Dictionary<int, List<(string Name, int Order)>> _byLength = [];

    public CandidateNames(IEnumerable<string> names)
    {
        int order = 0;
        foreach (string name in names)
        {
            if (!_byLength.TryGetValue(name.Length, out var list)) _byLength[name.Length] = list = [];
            list.Add((name, order++));
            LongestLength = Math.Max(LongestLength, name.Length);
        }
    }

    /// <summary>Tells the sets apart in <see cref="NameSuggestions"/>' answers.</summary>
    public int Id { get; } = Interlocked.Increment(ref _nextId);

    public int LongestLength { get; }

    public IReadOnlyList<(string Name, int Order)> OfLength(int length) => _byLength.TryGetValue(length, out var list) ? list : [];
}
