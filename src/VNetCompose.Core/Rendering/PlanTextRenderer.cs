using System.Text;
using VNetCompose.Core.Planning;

namespace VNetCompose.Core.Rendering;

/// <summary>
/// The human form of a plan: one line per change (<c>+</c> create, <c>~</c> change, <c>-</c> delete,
/// <c>-/+</c> replace, <c>!</c> conflict), attribute lines below it, then problems and a summary line.
/// </summary>
public static class PlanTextRenderer
{
    /// <summary>What users see for an action: <c>+</c>, <c>~</c>, <c>-</c>, <c>-/+</c>.</summary>
    public static string Symbol(ChangeAction action) => action switch
    {
        ChangeAction.Create => "+",
        ChangeAction.Change => "~",
        ChangeAction.Delete => "-",
        _ => "-/+",
    };

    /// <summary>The plan as <c>vnet plan</c> prints it: changes, conflicts, problems and the summary line.</summary>
    public static string Render(Plan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var text = new StringBuilder();
        foreach (var change in plan.Changes) AppendChange(text, change);
        foreach (var conflict in plan.Conflicts)
        {
            text.Append("! ").Append(conflict.Object).Append(": ").Append(conflict.Detail).Append('\n');
            if (conflict.Location is { } at) text.Append("    at ").Append(at).Append('\n');
        }
        foreach (var problem in plan.Problems) text.Append(problem).Append('\n');
        if (text.Length > 0) text.Append('\n');
        text.Append(Summary(plan)).Append('\n');
        return text.ToString();
    }

    /// <summary>Appends one change: its line, then one line per attribute.</summary>
    public static void AppendChange(StringBuilder text, PlannedChange change)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(change);
        text.Append(Symbol(change.Action)).Append(' ').Append(change.Object).Append('\n');
        foreach (var a in change.Attributes) text.Append("    ").Append(Attribute(change.Action, a)).Append('\n');
        if (change.Reason is { } reason) text.Append("    (").Append(reason).Append(")\n");
    }

    private static string Attribute(ChangeAction action, AttributeChange a) => action switch
    {
        ChangeAction.Create => $"{a.Name} = {a.After}",
        ChangeAction.Delete => $"{a.Name} = {a.Before}",
        _ when a.Before is null => $"+ {a.Name}: {a.After}",
        _ when a.After is null => $"- {a.Name}: {a.Before}",
        _ => $"{a.Name}: {a.Before} -> {a.After}",
    };

    /// <summary><c>Plan: 3 to create, 1 to change, 0 to delete.</c> (a replace count when there are replaces), or "No changes".</summary>
    public static string Summary(Plan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        string refusal = plan.Conflicts.Count > 0 || plan.Errors.Any()
            ? $" {Count(plan.Conflicts.Count, "conflict")}, {Count(plan.Errors.Count(), "error")}: nothing will be changed."
            : "";
        if (!plan.HasChanges) return "No changes: the kernel matches the topology." + refusal;
        int replace = plan.Count(ChangeAction.Replace);
        return $"Plan: {plan.Count(ChangeAction.Create)} to create, {plan.Count(ChangeAction.Change)} to change, "
            + $"{plan.Count(ChangeAction.Delete)} to delete" + (replace > 0 ? $", {replace} to replace." : ".") + refusal;
    }

    /// <summary>"1 change", "3 changes".</summary>
    public static string Count(int n, string noun) => n == 1 ? $"1 {noun}" : $"{n} {noun}s";
}
