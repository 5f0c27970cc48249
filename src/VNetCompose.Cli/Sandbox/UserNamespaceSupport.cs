namespace VNetCompose.Cli.Sandbox;

/// <summary>
/// Whether this system lets an unprivileged user create user namespaces, and, when it does not, one paragraph
/// naming the setting that refuses and how to change it. Three gates exist: the per-user-namespace limit
/// <c>user.max_user_namespaces</c> (0 disables them: unshare fails with ENOSPC), Debian's and older Ubuntu's
/// <c>kernel.unprivileged_userns_clone</c> (0: EPERM), and Ubuntu's AppArmor restriction
/// <c>kernel.apparmor_restrict_unprivileged_userns</c> (1: the namespace is made, but without capabilities, so
/// writing its uid map or mounting fails with EPERM). A container's seccomp profile (Docker's default) refuses
/// unshare(CLONE_NEWUSER) with EPERM and leaves no setting to read.
/// </summary>
internal sealed class UserNamespaceSupport(Func<string, string?> readSetting)
{
    public const string MaxUserNamespaces = "user.max_user_namespaces";
    public const string UnprivilegedClone = "kernel.unprivileged_userns_clone";
    public const string AppArmorRestriction = "kernel.apparmor_restrict_unprivileged_userns";

    /// <summary>Reads settings from /proc/sys (<c>user.max_user_namespaces</c> is /proc/sys/user/max_user_namespaces).</summary>
    public static UserNamespaceSupport OfThisSystem { get; } = new(ReadProcSys);

    private const string Lead = "error: vnet sandbox needs unprivileged user namespaces, and this system refuses them";
    private const string Otherwise = "Otherwise run vnet as root (sudo vnet ...) instead of in a sandbox.";

    /// <summary>The paragraph for a setting that refuses before anything is tried; null when none does.</summary>
    public string? RefusalBeforeTrying(bool root)
    {
        if (readSetting(MaxUserNamespaces) is "0")
        {
            return $"{Lead}: {MaxUserNamespaces} is 0 (in this user namespace), which allows none. "
                + $"Allow them with 'sudo sysctl -w {MaxUserNamespaces}=15000' (and a line '{MaxUserNamespaces} = 15000' in a file under /etc/sysctl.d/ to keep it after a reboot). {Otherwise}";
        }
        if (!root && readSetting(UnprivilegedClone) is "0")
        {
            return $"{Lead}: {UnprivilegedClone} is 0, which allows them to root only. "
                + $"Allow them with 'sudo sysctl -w {UnprivilegedClone}=1' (and '{UnprivilegedClone} = 1' in a file under /etc/sysctl.d/). {Otherwise}";
        }
        return null;
    }

    /// <summary>
    /// The paragraph for a sandbox that could not be made: <paramref name="helperError"/> is what util-linux's
    /// unshare (or newuidmap) printed.
    /// </summary>
    public string Diagnose(string helperError)
    {
        ArgumentNullException.ThrowIfNull(helperError);
        string said = string.Join("; ", helperError.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));
        string quoted = said.Length > 0 ? $" ({said})" : "";
        if (readSetting(MaxUserNamespaces) is "0" || said.Contains("No space left on device", StringComparison.Ordinal))
        {
            return $"{Lead}{quoted}: {MaxUserNamespaces} is {readSetting(MaxUserNamespaces) ?? "unknown"}, the number of user namespaces a user may have in this one and below it, and yours are used up. "
                + $"Raise it with 'sudo sysctl -w {MaxUserNamespaces}=15000' (and '{MaxUserNamespaces} = 15000' in a file under /etc/sysctl.d/). {Otherwise}";
        }
        if (readSetting(UnprivilegedClone) is "0")
        {
            return $"{Lead}{quoted}: {UnprivilegedClone} is 0, which allows them to root only. "
                + $"Allow them with 'sudo sysctl -w {UnprivilegedClone}=1' (and '{UnprivilegedClone} = 1' in a file under /etc/sysctl.d/). {Otherwise}";
        }
        if (readSetting(AppArmorRestriction) is "1")
        {
            return $"{Lead}{quoted}: {AppArmorRestriction} is 1 (Ubuntu 23.10 and later), so a program may use a user namespace only under an AppArmor profile that says 'userns,'. "
                + $"Either turn the restriction off with 'sudo sysctl -w {AppArmorRestriction}=0' (and '{AppArmorRestriction} = 0' in a file under /etc/sysctl.d/), "
                + "or give unshare such a profile (see \"Without root\" in the README). " + Otherwise;
        }
        if (said.Contains("newuidmap", StringComparison.Ordinal) || said.Contains("newgidmap", StringComparison.Ordinal))
        {
            return $"{Lead}{quoted}: the setuid helpers newuidmap and newgidmap (package uidmap) could not write the namespace's id maps. "
                + "Check that they are setuid root (ls -l /usr/bin/newuidmap) and that /etc/subuid and /etc/subgid give you a range (usermod --add-subuids 100000-165535 --add-subgids 100000-165535 USER), "
                + "and that vnet is not being traced (ptrace drops the setuid bit). " + Otherwise;
        }
        if (said.Contains("Operation not permitted", StringComparison.Ordinal))
        {
            return $"{Lead}{quoted}: no kernel setting refuses them here, so a seccomp filter or a security module does, as a container's default profile does (Docker's and Podman's refuse unshare(CLONE_NEWUSER)). "
                + "Run the container with a profile that allows it (docker run --security-opt seccomp=unconfined, or a profile allowing unshare and clone with CLONE_NEWUSER), or run vnet as root in it.";
        }
        return $"{Lead}{quoted}. Check {MaxUserNamespaces} (must be above 0), {UnprivilegedClone} (1 where it exists) and {AppArmorRestriction} (0 where it exists). {Otherwise}";
    }

    private static string? ReadProcSys(string setting)
    {
        try
        {
            return File.ReadAllText("/proc/sys/" + setting.Replace('.', '/')).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
