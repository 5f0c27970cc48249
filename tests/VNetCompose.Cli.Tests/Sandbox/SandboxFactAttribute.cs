using VNetCompose.TestSupport;

namespace VNetCompose.Cli.Tests.Sandbox;

/// <summary>
/// A test run as an unprivileged user in <c>vnet sandbox</c>: skipped, saying why, when the tests do not run as root,
/// when the user does not exist (./test.sh creates it), or when something the test needs is missing here:
/// <c>tun</c> (the user may open /dev/net/tun), <c>pasta</c> (package passt), <c>ovs</c> (Open vSwitch's programs),
/// <c>subuid</c> (newuidmap and a range of the user in /etc/subuid and /etc/subgid).
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class SandboxFactAttribute : FactAttribute
{
    public SandboxFactAttribute(params string[] needs)
    {
        Skip = Reason(needs);
    }

    private static readonly string User = Environment.GetEnvironmentVariable("VNET_TEST_USER") is { Length: > 0 } u ? u : UnprivilegedUser.DefaultName;

    /// <summary>What every sandbox test needs, checked once.</summary>
    private static readonly Lazy<string?> Basics = new(() =>
    {
        if (Environment.UserName != "root") return "the sandbox tests run as root (to play an unprivileged user and look from outside)";
        if (ProcessRunner.Run("id", "-u", User).ExitCode != 0)
            return $"no user {User} on this machine: ./test.sh creates it (useradd -m {User}), or set VNET_TEST_USER to an unprivileged user";
        if (ProcessRunner.Run("setpriv", $"--reuid={User}", $"--regid={User}", "--init-groups", "--", "dotnet", "--list-runtimes").ExitCode != 0)
            return $"{User} cannot run dotnet (the runtime must be readable by all, as in /usr/share/dotnet)";
        return null;
    });

    private static string? Reason(string[] needs)
    {
        string user = User;
        if (Basics.Value is { } basic) return basic;
        foreach (string need in needs)
        {
            string? missing = need switch
            {
                "tun" => ProcessRunner.Run("setpriv", $"--reuid={user}", $"--regid={user}", "--init-groups", "--", "test", "-r", "/dev/net/tun", "-a", "-w", "/dev/net/tun").ExitCode == 0
                    ? null
                    : $"{user} may not open /dev/net/tun (distributions make it 0666; ./test.sh grants it with setfacl -m u:{user}:rw /dev/net/tun)",
                "pasta" => FactWhenInstalledAttribute.Find("pasta") is null ? "pasta is not installed (apt-get install passt)" : null,
                "ovs" => new[] { "ovsdb-server", "ovs-vswitchd", "ovsdb-tool", "ovs-vsctl" }.FirstOrDefault(t => FactWhenInstalledAttribute.Find(t) is null) is { } tool
                    ? $"{tool} is not installed (apt-get install openvswitch-switch)"
                    : null,
                "subuid" => FactWhenInstalledAttribute.Find("newuidmap") is null || !File.Exists("/etc/subuid")
                        || !File.ReadAllText("/etc/subuid").Contains(user + ":", StringComparison.Ordinal)
                    ? $"newuidmap (package uidmap) or a range of {user} in /etc/subuid is missing (./test.sh adds both)"
                    : null,
                _ => throw new ArgumentException($"unknown need '{need}'", nameof(needs)),
            };
            if (missing is not null) return missing;
        }
        return null;
    }
}
