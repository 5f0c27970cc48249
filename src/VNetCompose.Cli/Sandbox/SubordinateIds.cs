using System.Globalization;

namespace VNetCompose.Cli.Sandbox;

/// <summary>A range of ids of <c>/etc/subuid</c> or <c>/etc/subgid</c>: <see cref="Count"/> ids from <see cref="Start"/>.</summary>
internal sealed record IdRange(long Start, long Count);

/// <summary>
/// The user's subordinate uid and gid ranges (shadow's <c>/etc/subuid</c>, <c>/etc/subgid</c>: lines
/// <c>NAME_OR_UID:START:COUNT</c>), which the setuid helpers newuidmap and newgidmap let the user map into a user
/// namespace. The sandbox maps the first range of each to ids 1..COUNT, so tap owners and programs running as
/// other users work inside. Without both ranges (or without the helpers) only the user is mapped, to root.
/// </summary>
internal static class SubordinateIds
{
    public const string UidFile = "/etc/subuid", GidFile = "/etc/subgid";

    /// <summary>The first range of the user (by name or numeric id) in the file's text; null when it has none.</summary>
    public static IdRange? FirstRange(string fileText, string userName, int userId)
    {
        ArgumentNullException.ThrowIfNull(fileText);
        string id = userId.ToString(CultureInfo.InvariantCulture);
        foreach (string line in fileText.Split('\n'))
        {
            string[] fields = line.Trim().Split(':');
            if (fields.Length != 3 || (fields[0] != userName && fields[0] != id)) continue;
            if (long.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out long start)
                && long.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out long count) && count > 0)
            {
                return new IdRange(start, count);
            }
        }
        return null;
    }

    /// <summary>The user's uid and gid ranges when both files hold one for the user; else null.</summary>
    public static (IdRange Uids, IdRange Gids)? Of(string userName, int userId)
    {
        var uids = Read(UidFile, userName, userId);
        var gids = Read(GidFile, userName, userId);
        return uids is not null && gids is not null ? (uids, gids) : null;
    }

    private static IdRange? Read(string path, string userName, int userId)
    {
        try
        {
            return FirstRange(File.ReadAllText(path), userName, userId);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
