namespace VNetCompose.TestSupport;

/// <summary>ICMP reachability between sandbox namespaces (iputils ping), with a few tries for links still coming up.</summary>
public static class Ping
{
    /// <summary>True when one echo from <paramref name="fromNamespace"/> to <paramref name="address"/> is answered
    /// within <paramref name="tries"/> attempts of one second each.</summary>
    public static bool Between(string fromNamespace, string address, int tries = 5)
    {
        for (int attempt = 0; attempt < tries; attempt++)
        {
            var result = ProcessRunner.Run("ip", ["netns", "exec", fromNamespace, "ping", "-c", "1", "-W", "1", "-n", "-q", address],
                TimeSpan.FromSeconds(10));
            if (result.Succeeded) return true;
        }
        return false;
    }
}
