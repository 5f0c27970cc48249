using System.Net.Sockets;
using System.Text.RegularExpressions;
using VNetCompose.Kernel.Ovs;
using VNetCompose.Ovsdb.Protocol;

namespace VNetCompose.Ovsdb.Rpc;

/// <summary>The server answered a request with a JSON-RPC error (e.g. "unknown method").</summary>
public sealed class OvsdbRpcException : OvsException
{
    /// <summary>Creates the exception.</summary>
    public OvsdbRpcException(string endpoint, string method, string error, string? details)
        : base(OvsdbErrors.OneLine($"ovsdb-server at {endpoint} refused '{method}': {error}" + (details is null ? "" : $": {details}")))
    {
        Method = method;
        Error = error;
        Details = details;
    }

    /// <summary>The JSON-RPC method that failed.</summary>
    public string Method { get; }

    /// <summary>The error's short text.</summary>
    public string Error { get; }

    /// <summary>The server's explanation, if any.</summary>
    public string? Details { get; }
}

/// <summary>A transaction that the server rejected: one operation failed, or the commit did (constraint and
/// referential-integrity checks run at commit). Nothing of the transaction was applied.</summary>
public sealed class OvsdbTransactionException : OvsException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="endpoint">The server's endpoint, for the message.</param>
    /// <param name="operationIndex">Zero-based index of the failing operation; null when the commit failed.</param>
    /// <param name="operationCount">Operations in the transaction.</param>
    /// <param name="operationSummary">What the failing operation did (<see cref="OvsdbOperation.Summary"/>); null at commit.</param>
    /// <param name="error">The server's error (e.g. <c>constraint violation</c>).</param>
    /// <param name="details">The server's explanation, if any.</param>
    public OvsdbTransactionException(string endpoint, int? operationIndex, int operationCount, string? operationSummary,
        string error, string? details)
        : base(OvsdbErrors.OneLine(
            $"OVSDB transaction at {endpoint} failed "
            + (operationIndex is int index ? $"at operation {index + 1} of {operationCount} ({operationSummary})" : "at commit")
            + $": {error}" + (string.IsNullOrEmpty(details) ? "" : $": {details}")))
    {
        OperationIndex = operationIndex;
        Error = error;
        Details = details;
    }

    /// <summary>Zero-based index of the failing operation; null when the commit failed.</summary>
    public int? OperationIndex { get; }

    /// <summary>RFC 7047's error name ("timed out", "constraint violation", "referential integrity violation", …).</summary>
    public string Error { get; }

    /// <summary>The server's explanation.</summary>
    public string? Details { get; }

    /// <summary>A <c>wait</c> found the rows differing from what it expected ("timed out" with timeout 0).</summary>
    public bool IsFailedCheck => Error == "timed out";
}

/// <summary>The server did not answer within the call's time limit.</summary>
public sealed class OvsdbTimeoutException : OvsException
{
    /// <summary>Creates the exception.</summary>
    public OvsdbTimeoutException(string message) : base(message) { }
}

/// <summary>Error texts shared by the client and the driver.</summary>
public static partial class OvsdbErrors
{
    /// <summary>How to get an ovsdb-server, appended to every "not reachable" message.</summary>
    public const string StartHint =
        "start Open vSwitch (Debian: apt-get install openvswitch-switch; /usr/share/openvswitch/scripts/ovs-ctl start)";

    /// <summary>Collapses whitespace and line breaks so a message stays on one line.</summary>
    public static string OneLine(string text) => Whitespace().Replace(text, " ").Trim();

    internal static OvsUnavailableException ConnectFailed(string endpoint, string path, SocketException e)
    {
        if (!File.Exists(path))
            return new($"no ovsdb-server at {endpoint}: the socket {path} does not exist; {StartHint}", e);
        return e.SocketErrorCode switch
        {
            SocketError.ConnectionRefused =>
                new($"no ovsdb-server at {endpoint}: connection refused (the socket is left from a server that stopped); {StartHint}", e),
            SocketError.AccessDenied =>
                new($"cannot connect to ovsdb-server at {endpoint}: permission denied (run as root)", e),
            _ => new($"cannot connect to ovsdb-server at {endpoint}: {e.Message}; {StartHint}", e),
        };
    }

    internal static OvsUnavailableException ConnectionLost(string endpoint, string method, Exception? cause) =>
        new($"ovsdb-server at {endpoint} closed the connection during '{method}' (it stopped or crashed); {StartHint}", cause);

    internal static OvsdbTransactionException? TransactionFailure(string endpoint, IReadOnlyList<OvsdbOperation> operations,
        IReadOnlyList<OperationResult?> results)
    {
        for (int i = 0; i < results.Count; i++)
        {
            if (results[i] is { Error: { } error } failed)
            {
                bool atCommit = i >= operations.Count;
                return new OvsdbTransactionException(endpoint, atCommit ? null : i, operations.Count,
                    atCommit ? null : operations[i].Summary(), error, failed.Details);
            }
        }
        return null;
    }

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}
