using FlowScope.Embedded.Storage;
using FlowScope.Embedded.Storage.Encoding;

namespace FlowScope.Embedded.Metrics;

/// <summary>
/// Database commands per request, per route: from the <c>flowscope.db.*</c> attributes the capture puts on each
/// request's span. Bounded to <see cref="MaxRoutes"/> routes (requests of further routes are counted as overflow).
/// Not thread-safe.
/// </summary>
internal sealed class RouteQueries
{
    internal const int MaxRoutes = 200;

    private readonly Dictionary<string, Stats> _routes = new(StringComparer.Ordinal);
    private long _overflow;

    public void Add(SpanPayload request, double durationMs)
    {
        // Requests without a route template (static files, unmatched paths) would make a route of every path.
        if (!request.TryGetAttribute(s_route, out _))
        {
            return;
        }

        var name = request.Name.ToString();
        if (!_routes.TryGetValue(name, out var stats))
        {
            if (_routes.Count >= MaxRoutes)
            {
                _overflow++;
                return;
            }

            stats = new Stats();
            _routes.Add(name, stats);
        }

        var commands = request.CountOf(s_count);
        stats.Requests++;
        stats.Commands += commands;
        stats.MaxCommands = Math.Max(stats.MaxCommands, commands);
        stats.Durations.Add(durationMs);
        if (request.CountOf(s_nPlusOne) > 0)
        {
            stats.NPlusOneRequests++;
        }

        stats.DuplicateQueries += request.CountOf(s_duplicates);
    }

    public (IReadOnlyList<RouteQueriesSnapshot> Routes, long Overflow) Snapshot()
    {
        var result = new RouteQueriesSnapshot[_routes.Count];
        var i = 0;
        foreach (var (route, s) in _routes)
        {
            result[i++] = new RouteQueriesSnapshot(
                route,
                s.Requests,
                s.Commands,
                s.Requests == 0 ? 0 : Math.Round(s.Commands / (double)s.Requests, 2),
                s.MaxCommands,
                s.NPlusOneRequests,
                s.DuplicateQueries,
                s.Durations.Percentiles(50)[0]);
        }

        Array.Sort(result, static (a, b) => b.QueriesPerRequest.CompareTo(a.QueriesPerRequest) is var c and not 0 ? c : string.CompareOrdinal(a.Route, b.Route));
        return (result, _overflow);
    }

    private static readonly int s_route = WellKnownStrings.NumberOf("http.route");

    private static readonly int s_count = WellKnownStrings.NumberOf("flowscope.db.count");
    private static readonly int s_nPlusOne = WellKnownStrings.NumberOf("flowscope.db.n_plus_one");
    private static readonly int s_duplicates = WellKnownStrings.NumberOf("flowscope.db.duplicates");

    private sealed class Stats
    {
        public readonly DurationReservoir Durations = new(64);
        public long Requests;
        public long Commands;
        public int MaxCommands;
        public long NPlusOneRequests;
        public long DuplicateQueries;
    }
}

/// <summary>Database commands per request of one route (its requests' name: method and route template).</summary>
internal sealed record RouteQueriesSnapshot(
    string Route,
    long Requests,
    long DatabaseCommands,
    double QueriesPerRequest,
    int MaxQueriesPerRequest,
    long NPlusOneRequests,
    long DuplicateQueries,
    double LatencyP50Ms);
