namespace FlowScope.Embedded.Faults;

/// <summary>The kinds of component a fault can be injected into, as named in the fault API.</summary>
internal static class FaultKind
{
    public const string Middleware = "middleware";
    public const string Endpoint = "endpoint";
    public const string Queue = "queue";
    public const string Worker = "worker";

    public static readonly string[] All = [Middleware, Endpoint, Queue, Worker];

    public static string? Normalize(string? kind)
    {
        foreach (var known in All)
        {
            if (string.Equals(known, kind?.Trim(), StringComparison.OrdinalIgnoreCase))
            {
                return known;
            }
        }

        return null;
    }
}
