namespace VNetCompose.Core.Planning;

/// <summary>
/// Orders a plan's steps by their dependencies (terraform's <c>internal/dag</c> in small): a topological sort
/// whose ties go to the lower <see cref="KernelStep.Rank"/>, then to the order the planner made the steps in, so
/// the same plan always comes out in the same, readable order. Edges:
/// <list type="bullet">
/// <item>a create/configure step after every step that provides an object it needs, or after the first of them
/// (the object's creation) for an object it needs only to exist;</item>
/// <item>a create/configure step after every delete that frees an object it provides (the name must be free);</item>
/// <item>steps providing the same object in the order they were planned (create, configure, master, up);</item>
/// <item>a delete before every delete that frees an object it needs (reverse dependencies for teardown).</item>
/// </list>
/// </summary>
public static class StepGraph
{
    /// <summary>The steps in dependency order; throws when they form a cycle (a planner bug).</summary>
    public static IReadOnlyList<KernelStep> Order(IReadOnlyList<KernelStep> steps)
    {
        ArgumentNullException.ThrowIfNull(steps);
        int n = steps.Count;
        var providers = new Dictionary<ObjectAddress, List<int>>();
        var freers = new Dictionary<ObjectAddress, List<int>>();
        for (int i = 0; i < n; i++)
        {
            if (steps[i].IsDelete)
                foreach (var o in steps[i].Frees) Add(freers, o, i);
            else
                foreach (var o in steps[i].Provides) Add(providers, o, i);
        }

        var after = new List<int>[n]; // after[i]: steps that must wait for i
        var waiting = new int[n];     // how many steps i still waits for
        var edges = new HashSet<(int, int)>();
        void Edge(int first, int then)
        {
            if (first == then || !edges.Add((first, then))) return;
            (after[first] ??= []).Add(then);
            waiting[then]++;
        }

        foreach (var chain in providers.Values)
            for (int k = 1; k < chain.Count; k++) Edge(chain[k - 1], chain[k]);
        for (int i = 0; i < n; i++)
        {
            var step = steps[i];
            if (step.IsDelete)
            {
                foreach (var need in step.Needs)
                    foreach (int j in freers.GetValueOrDefault(need) ?? []) Edge(i, j);
                continue;
            }
            foreach (var need in step.Needs)
                foreach (int j in providers.GetValueOrDefault(need) ?? []) Edge(j, i);
            foreach (var need in step.NeedsCreated)
                if (providers.GetValueOrDefault(need) is [int creator, ..]) Edge(creator, i);
            foreach (var provided in step.Provides)
                foreach (int j in freers.GetValueOrDefault(provided) ?? []) Edge(j, i);
        }

        var ready = new PriorityQueue<int, (int Rank, int Index)>();
        for (int i = 0; i < n; i++)
            if (waiting[i] == 0) ready.Enqueue(i, (steps[i].Rank, i));
        var ordered = new List<KernelStep>(n);
        while (ready.TryDequeue(out int i, out _))
        {
            ordered.Add(steps[i]);
            foreach (int j in after[i] ?? [])
                if (--waiting[j] == 0) ready.Enqueue(j, (steps[j].Rank, j));
        }
        if (ordered.Count != n)
        {
            var stuck = Enumerable.Range(0, n).Where(i => waiting[i] > 0).Select(i => steps[i].Describe());
            throw new InvalidOperationException("the plan's steps depend on each other in a cycle: " + string.Join("; ", stuck));
        }
        return ordered;
    }

    private static void Add(Dictionary<ObjectAddress, List<int>> index, ObjectAddress o, int step)
    {
        if (!index.TryGetValue(o, out var list)) index[o] = list = [];
        list.Add(step);
    }
}
