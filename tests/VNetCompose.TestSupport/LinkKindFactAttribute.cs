using Xunit;
namespace VNetCompose.TestSupport;

/// <summary>
/// A test that needs the kernel to have a link kind: skipped, naming the missing kind and iproute2's answer, where
/// it does not (this machine has no dummy, ipvlan or vlan), and run wherever it does. iproute2 is asked, in a
/// throwaway namespace (<c>unshare -n</c>), to create one on a bridge: the oracle is not the code under test.
/// </summary>
public sealed class LinkKindFactAttribute : FactAttribute
{
    private static readonly Dictionary<string, string?> Answers = [];

    public LinkKindFactAttribute(string kind, string arguments = "")
    {
        if (Missing(kind, arguments) is { } reason) Skip = reason;
    }

    /// <summary>Why the kernel cannot create a link of <paramref name="kind"/>, or null when it can (or not root: then the test says so).</summary>
    public static string? Missing(string kind, string arguments = "")
    {
        lock (Answers)
        {
            if (Answers.TryGetValue(kind + arguments, out var answer)) return answer;
            if (Environment.UserName != "root" && Tmds.Linux.LibC.geteuid() != 0) return Answers[kind + arguments] = "needs root (kernel test)";
            var result = ProcessRunner.Run("unshare", "-n", "sh", "-c",
                $"ip link add p0 type bridge && ip link add link p0 name t0 type {kind} {arguments}");
            return Answers[kind + arguments] = result.Succeeded ? null
                : $"this kernel has no '{kind}' link type (ip link add ... type {kind}: {result.StandardError.Trim()})";
        }
    }
}
