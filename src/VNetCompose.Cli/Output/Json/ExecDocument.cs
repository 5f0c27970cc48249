namespace VNetCompose.Cli.Output.Json;

/// <summary><c>vnet exec -o json</c> (schemas/exec.schema.json): one record per namespace the command ran in.</summary>
internal sealed record ExecDocument(string Instance, IReadOnlyList<string> Command, IReadOnlyList<ExecRecord> Results);

/// <param name="Namespace">As the topology names it (<c>host</c> included).</param>
/// <param name="Netns">The kernel's name of it; null for the namespace vnet runs in.</param>
/// <param name="ExitCode">The program's exit status; 128 + N when signal N ended it.</param>
/// <param name="Stdout">Everything it wrote to stdout.</param>
/// <param name="Stderr">Everything it wrote to stderr.</param>
internal sealed record ExecRecord(string Namespace, string? Netns, int ExitCode, string Stdout, string Stderr);
