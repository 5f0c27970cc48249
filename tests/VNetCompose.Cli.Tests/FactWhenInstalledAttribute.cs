namespace VNetCompose.Cli.Tests;

/// <summary>A fact that needs a program (zsh, fish, script): skipped, naming it, where it is not installed.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class FactWhenInstalledAttribute : FactAttribute
{
    public FactWhenInstalledAttribute(string program)
    {
        Program = program;
        if (Find(program) is null) Skip = $"{program} is not installed (apt-get install {program})";
    }

    public string Program { get; }

    public static string? Find(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin").Split(':')
            .Select(dir => Path.Combine(dir, program)).FirstOrDefault(File.Exists);
}
