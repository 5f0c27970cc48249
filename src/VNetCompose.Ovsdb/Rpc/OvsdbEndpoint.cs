namespace VNetCompose.Ovsdb.Rpc;

/// <summary>Where ovsdb-server listens. Only unix sockets are supported: <c>unix:/path</c> or a bare path.</summary>
public static class OvsdbEndpoint
{
    /// <summary>Debian's (and OVS's default) database socket.</summary>
    public const string Default = "unix:/var/run/openvswitch/db.sock";

    /// <summary>The environment variable that overrides <see cref="Default"/>.</summary>
    public const string EnvironmentVariable = "VNET_OVSDB";

    /// <summary>The endpoint to use: an explicit one (e.g. <c>--ovsdb</c>), else <c>VNET_OVSDB</c>, else <see cref="Default"/>.</summary>
    public static string Resolve(string? explicitEndpoint = null) =>
        !string.IsNullOrWhiteSpace(explicitEndpoint) ? explicitEndpoint
        : Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } fromEnvironment ? fromEnvironment
        : Default;

    /// <summary>The socket path of <paramref name="endpoint"/>.</summary>
    /// <exception cref="ArgumentException">Not a unix endpoint (tcp:, ssl: and passive endpoints are not supported).</exception>
    public static string SocketPath(string endpoint)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(endpoint);
        if (endpoint.StartsWith("unix:", StringComparison.Ordinal)) return endpoint["unix:".Length..];
        if (endpoint.StartsWith('/')) return endpoint;
        throw new ArgumentException(
            $"OVSDB endpoint '{endpoint}' is not supported: use unix:/path/to/db.sock (e.g. {Default})", nameof(endpoint));
    }

    /// <summary><paramref name="endpoint"/> in <c>unix:/path</c> form.</summary>
    public static string Normalize(string endpoint) => "unix:" + SocketPath(endpoint);
}
