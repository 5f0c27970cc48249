using VNetCompose.Core;
using VNetCompose.Core.Desired;
using VNetCompose.Core.State;
using VNetCompose.Kernel;
using VNetCompose.Model;
using VNetCompose.Model.Loading;

namespace VNetCompose.Cli.Commands;

/// <summary>A namespace of a lab: as the topology names it, and as the kernel does.</summary>
/// <param name="Name">As the topology names it (<c>host</c> included).</param>
/// <param name="Kernel">The kernel's namespace it maps to.</param>
/// <param name="Member">Part of the lab for <c>exec --all</c>: every namespace but an unmapped <c>host</c> that holds nothing of it.</param>
internal sealed record LabNamespace(string Name, NetnsId Kernel, bool Member)
{
    /// <summary><c>ubuntu1</c>, or <c>ubuntu1 (cl-ubuntu1)</c> when the kernel's name differs.</summary>
    public string Display => Kernel.Name is { } k && k != Name ? $"{Name} ({k})" : Name;
}

/// <summary>
/// The namespaces of one instance, resolved from its topology file and placement options, or from its
/// state file alone (which records the prefix and the host mapping it was brought up with).
/// </summary>
internal sealed record RunningLab(string Instance, IReadOnlyList<LabNamespace> Namespaces)
{
    public IEnumerable<LabNamespace> Members => Namespaces.Where(n => n.Member);

    public static RunningLab FromTopology(Topology topology, LabOptions options)
    {
        var desired = DesiredStateBuilder.Build(topology, options);
        var host = options.MapNamespace(Topology.HostNamespace);
        bool hostHoldsSomething = desired.Links.Any(l => l.Namespace == host)
            || desired.Namespaces.Any(n => n.Id == host && n.Nat is not null);
        return new RunningLab(desired.Instance,
        [
            new LabNamespace(Topology.HostNamespace, host, !host.IsCurrent || hostHoldsSomething),
            .. topology.Namespaces.Select(n => new LabNamespace(n.Name, options.MapNamespace(n.Name), Member: true)),
        ]);
    }

    public static RunningLab FromRecord(InstanceRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var options = record.Options;
        string prefix = options.Prefix ?? "";
        var host = options.MapNamespace(Topology.HostNamespace);
        var declared = record.Holdings.Namespaces.Concat(record.Holdings.CreatedNamespaces).Distinct()
            .Where(k => k != options.HostNetns)
            .Select(k => new LabNamespace(k.StartsWith(prefix, StringComparison.Ordinal) ? k[prefix.Length..] : k, NetnsId.Named(k), Member: true))
            .OrderBy(n => n.Name, StringComparer.Ordinal);
        return new RunningLab(record.Instance,
        [
            new LabNamespace(Topology.HostNamespace, host, !host.IsCurrent || record.Holdings.UsesCurrentNamespace),
            .. declared,
        ]);
    }

    /// <summary>The namespace the topology calls <paramref name="name"/>, or null.</summary>
    public LabNamespace? Find(string name) => Namespaces.FirstOrDefault(n => n.Name == name);

    /// <summary>Why <paramref name="name"/> is not a namespace of this lab, with the closest one (or the one whose kernel name it is).</summary>
    public string Unknown(string name)
    {
        string hint = Namespaces.FirstOrDefault(n => n.Kernel.Name == name) is { } byKernelName
            ? $"; did you mean '{byKernelName.Name}'? ({name} is its name in the kernel)"
            : Suggestions.DidYouMean(name, Namespaces.Select(n => n.Name));
        return $"{Instance} has no namespace '{name}' (it has {string.Join(", ", Namespaces.Select(n => n.Name))}){hint}";
    }

    /// <summary>
    /// The lab a command means: the topology file, else the instance named by --name, else the only
    /// instance that is up. Throws <see cref="LabNotFoundException"/> (a one-line reason) otherwise.
    /// </summary>
    public static RunningLab Resolve(string? file, string? instance, LabOptions options, StateStore store, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(error);
        if (file is not null)
        {
            var result = TopologyLoader.LoadFile(file);
            foreach (var diagnostic in result.Diagnostics) error.WriteLine(diagnostic);
            return result.Topology is { } topology
                ? FromTopology(topology, options)
                : throw new LabNotFoundException($"{file} is not a valid topology");
        }
        if (instance is not null)
        {
            return store.Read(instance) is { } record
                ? FromRecord(record)
                : throw new LabNotFoundException($"no instance {instance} is up (no state file in {store.Directory})"
                    + Suggestions.DidYouMean(instance, store.List().Select(r => r.Instance)));
        }
        var up = store.List();
        return up.Count switch
        {
            1 => FromRecord(up[0]),
            0 => throw new LabNotFoundException($"no instance is up (no state file in {store.Directory}): give FILE or --name INSTANCE"),
            _ => throw new LabNotFoundException($"{up.Count} instances are up ({string.Join(", ", up.Select(r => r.Instance))}): give FILE or --name INSTANCE"),
        };
    }
}

/// <summary>The command line does not lead to a running lab; the message says why.</summary>
internal sealed class LabNotFoundException(string message) : Exception(message);
