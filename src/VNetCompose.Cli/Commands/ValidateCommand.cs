using System.CommandLine;
using VNetCompose.Cli.Output;
using VNetCompose.Cli.Output.Json;
using VNetCompose.Model;

namespace VNetCompose.Cli.Commands;

/// <summary><c>vnet validate FILE...</c>: loads each topology and prints every problem; changes nothing.</summary>
internal static class ValidateCommand
{
    /// <summary>At least one file has an error (or, with --strict, a warning). Usage errors exit with 1.</summary>
    public const int InvalidExitCode = 2;

    public static Command Create()
    {
        var files = new Argument<string[]>("FILE")
        {
            Description = "Topology files to check.",
            HelpName = "FILE",
            Arity = ArgumentArity.OneOrMore,
        };
        FileArguments.RejectUnknownOptions(files);
        files.CompletionSources.Add(Completions.TopologyFiles);
        var strict = new Option<bool>("--strict")
        {
            Description = "Treat warnings as errors.",
        };
        var output = OutputFormat.Create();
        var command = new Command("validate",
            "Check topology files without touching the system: prints each problem as file:line:col on stderr, exits 0 when all are valid, 2 otherwise.")
        {
            files,
            strict,
            output,
        };
        command.SetAction(parse => Run(
            parse.GetRequiredValue(files),
            parse.GetValue(strict),
            parse.IsJson(output),
            parse.InvocationConfiguration.Output,
            parse.InvocationConfiguration.Error));
        return command;
    }

    private static int Run(IReadOnlyList<string> files, bool strict, bool json, TextWriter output, TextWriter error)
    {
        var checkedFiles = new List<ValidatedFileJson>();
        foreach (string file in files)
        {
            LoadResult result = TopologyLoader.LoadFile(file);
            bool valid = result.Topology is not null && !(strict && result.Warnings.Any());
            // The loader keeps at most 1,000 errors and 1,000 warnings; the rest are counted.
            checkedFiles.Add(new ValidatedFileJson(file, valid, result.Topology is { } t ? TopologySummaryJson.Of(t) : null,
                result.Diagnostics.Select(DiagnosticJson.Of).ToList(), result.Omitted));
            if (json) continue;
            DiagnosticOutput.Write(result, error);
            if (valid)
                output.WriteLine($"ok: {file} ({Summary(result.Topology!, result.Warnings.Count())})");
        }
        bool allValid = checkedFiles.All(f => f.Valid);
        if (json) JsonOutput.Write(output, new ValidateDocument(allValid, checkedFiles), c => c.ValidateDocument);
        return allValid ? 0 : InvalidExitCode;
    }

    /// <summary><c>2 namespaces, 1 bridge, 2 veth pairs, 1 NAT rule</c>: what the file declares, leaving out what it has none of.</summary>
    private static string Summary(Topology topology, int warnings)
    {
        (int Count, string Noun)[] parts =
        [
            (topology.Namespaces.Count, "namespace"),
            (topology.Bridges.Count(), "bridge"),
            (topology.OvsBridges.Count, "OVS bridge"),
            (topology.Veths.Count, "veth pair"),
            (topology.Taps.Count(), "tun/tap device"),
            (topology.Links.Count - topology.Bridges.Count() - topology.Taps.Count(), "other link"),
            (topology.Nat.Count, "NAT rule"),
            (warnings, "warning"),
        ];
        return string.Join(", ", parts.Where((p, i) => i == 0 || p.Count > 0).Select(p => $"{p.Count} {p.Noun}{(p.Count == 1 ? "" : "s")}"));
    }
}
