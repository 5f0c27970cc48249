using VNetCompose.Kernel;

namespace VNetCompose.Core.Planning;

/// <summary>
/// One difference between the NAT rules the kernel holds and the desired ones. <see cref="Before"/> null:
/// a missing rule; <see cref="After"/> null: an extra rule; both set and equal: a rule in the wrong place
/// of its chain; both set and different: a rule changed (by hand) into another.
/// Positions are 1-based within the rule's chain.
/// </summary>
public sealed record NatRuleDifference(NatRuleState? Before, NatRuleState? After, int BeforePosition, int AfterPosition)
{
    /// <summary>The same rule at another position.</summary>
    public bool IsMove => Before is not null && After is not null && Before == After;
}

/// <summary>
/// Compares rule lists chain by chain, in the order the nf_tables driver reads them back (grouped by
/// chain in <see cref="NatChain"/> order, each chain in kernel order). Order matters inside a chain: the
/// first matching NAT rule decides. The rules both lists share in the same order (a longest common
/// subsequence) are left out; between two of them, extra and missing rules pair up as changed rules,
/// the rest stay extra or missing; an extra and a missing rule that are equal become a move.
/// </summary>
public static class NatRuleDiff
{
    /// <summary>The differences that turn <paramref name="have"/> into <paramref name="want"/>.</summary>
    public static IReadOnlyList<NatRuleDifference> Compare(IReadOnlyList<NatRuleState> have, IReadOnlyList<NatRuleState> want)
    {
        ArgumentNullException.ThrowIfNull(have);
        ArgumentNullException.ThrowIfNull(want);
        var result = new List<NatRuleDifference>();
        foreach (var chain in Enum.GetValues<NatChain>())
        {
            var h = have.Where(r => r.Chain == chain).ToList();
            var w = want.Where(r => r.Chain == chain).ToList();
            if (!h.SequenceEqual(w)) result.AddRange(MergeMoves(CompareChain(h, w)));
        }
        return result;
    }

    private static List<NatRuleDifference> CompareChain(List<NatRuleState> have, List<NatRuleState> want)
    {
        // common[i, j]: length of the longest common subsequence of have[i..] and want[j..].
        var common = new int[have.Count + 1, want.Count + 1];
        for (int i = have.Count - 1; i >= 0; i--)
        {
            for (int j = want.Count - 1; j >= 0; j--)
            {
                common[i, j] = have[i] == want[j] ? common[i + 1, j + 1] + 1 : Math.Max(common[i + 1, j], common[i, j + 1]);
            }
        }

        var result = new List<NatRuleDifference>();
        var extra = new List<int>();
        var missing = new List<int>();
        int h = 0, w = 0;
        while (h < have.Count || w < want.Count)
        {
            if (h < have.Count && w < want.Count && have[h] == want[w] && common[h, w] == common[h + 1, w + 1] + 1)
            {
                Flush();
                h++;
                w++;
            }
            else if (w == want.Count || (h < have.Count && common[h + 1, w] >= common[h, w + 1]))
            {
                extra.Add(h++);
            }
            else
            {
                missing.Add(w++);
            }
        }
        Flush();
        return result;

        // Between two shared rules: pair extra with missing rules as changes, in order.
        void Flush()
        {
            int paired = Math.Min(extra.Count, missing.Count);
            for (int k = 0; k < paired; k++)
                result.Add(new(have[extra[k]], want[missing[k]], extra[k] + 1, missing[k] + 1));
            result.AddRange(extra.Skip(paired).Select(i => new NatRuleDifference(have[i], null, i + 1, 0)));
            result.AddRange(missing.Skip(paired).Select(j => new NatRuleDifference(null, want[j], 0, j + 1)));
            extra.Clear();
            missing.Clear();
        }
    }

    /// <summary>A rule both extra and missing is the same rule at another place of the chain.</summary>
    private static List<NatRuleDifference> MergeMoves(List<NatRuleDifference> differences)
    {
        var result = new List<NatRuleDifference>(differences);
        for (int m = 0; m < result.Count; m++)
        {
            if (result[m] is not { Before: null, After: { } rule } missing) continue;
            int e = result.FindIndex(d => d.After is null && d.Before == rule);
            if (e < 0) continue;
            result[m] = missing with { Before = rule, BeforePosition = result[e].BeforePosition };
            result.RemoveAt(e);
            if (e < m) m--;
        }
        return result;
    }
}
