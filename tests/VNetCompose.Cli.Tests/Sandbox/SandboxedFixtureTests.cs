using VNetCompose.TestSupport;

namespace VNetCompose.Cli.Tests.Sandbox;

/// <summary>
/// The fixture library used by a test suite run without root: <c>vnet sandbox -- dotnet test</c> of the whole fixture
/// test project (tests/VNetCompose.Fixtures.Tests: labs brought up and torn down through <c>LabFixture</c>, in-process
/// TCP and UDP through <c>lab["net0"].CreateSocket</c>, <c>RunAsync</c>, <c>ExecAsync</c> with ping, the xunit
/// fixtures, the reaper of killed owners, shaping, labs on a private Open vSwitch) as the unprivileged user. Inside
/// the sandbox the user is root (euid 0), so the tests' root-only marks run them instead of skipping them: every one
/// must run and pass.
/// </summary>
[Collection(SandboxCollection.Name)]
public sealed class SandboxedFixtureTests(UnprivilegedUser user)
{
    [SandboxFact("tun", "ovs")]
    public void FixtureTests_RunWithoutRoot_InASandbox_AllRunAndPass()
    {
        string built = Path.Combine(RepositoryRoot(), "tests", "VNetCompose.Fixtures.Tests", "bin", "Release", "net10.0");
        Directory.Exists(built).Should().BeTrue($"the fixture tests are built ({built})");
        string copy = Path.Combine(user.Folder, "fixture-tests");
        ProcessRunner.RunChecked("cp", "-r", built + "/.", copy);
        ProcessRunner.RunChecked("chmod", "-R", "a+rX", copy);

        var result = user.Run(
            [user.Vnet, "sandbox", "--", "dotnet", "test", Path.Combine(copy, "VNetCompose.Fixtures.Tests.dll"),
                "--results-directory", Path.Combine(user.Scratch, "results")],
            TimeSpan.FromMinutes(5));

        string output = result.StandardOutput + result.StandardError;
        result.ExitCode.Should().Be(0, output);
        output.Should().MatchRegex(@"Passed!\s+-\s+Failed:\s+0, Passed:\s+[1-9][0-9]*, Skipped:\s+0", "every test ran (none skipped as not root) and passed");
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "VNetCompose.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException("VNetCompose.sln not found above " + AppContext.BaseDirectory);
    }
}
