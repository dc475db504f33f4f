namespace FlowScope.Embedded.Metrics;

/// <summary>
/// The live figures of one kind of work (requests, connections, messages, worker units, simulator runs): rate, errors
/// over the last minute, latency percentiles of the most recent units and totals. Not thread-safe.
/// </summary>
internal sealed class KindMetrics(string kind)
{
    private readonly RateWindow _rate = new();
    private readonly RateWindow _clientErrors = new();
    private readonly DurationReservoir _latency = new(2_048);
    private long _total;
    private long _errors;

    public string Kind { get; } = kind;

    public void Add(long endUtcTicks, double durationMs, bool failed, bool clientError)
    {
        _rate.Add(endUtcTicks, failed);
        if (clientError)
        {
            _clientErrors.Add(endUtcTicks, false);
        }

        _latency.Add(durationMs);
        _total++;
        if (failed)
        {
            _errors++;
        }
    }

    public KindMetricsSnapshot Snapshot(DateTimeOffset now)
    {
        var recent = _rate.Over(now, 10);
        var minute = _rate.Over(now, 60);
        var clientErrors = _clientErrors.Over(now, 60).Count;
        var p = _latency.Percentiles(50, 95, 99);
        return new KindMetricsSnapshot(
            Kind,
            recent.PerSecond,
            minute.Count,
            minute.Errors,
            minute.Count == 0 ? 0 : Math.Round(minute.Errors / (double)minute.Count, 4),
            clientErrors,
            p[0],
            p[1],
            p[2],
            _total,
            _errors);
    }
}

/// <summary>One kind of work's figures at one moment.</summary>
/// <param name="Kind">The kind (see <see cref="Storage.TraceKinds"/>).</param>
/// <param name="PerSecond">Units finished per second over the last 10 seconds.</param>
/// <param name="LastMinute">Units finished in the last minute.</param>
/// <param name="ErrorsLastMinute">Of those, the ones that failed (or under which something failed).</param>
/// <param name="ErrorRate">Failed share of the last minute's units, 0 to 1.</param>
/// <param name="ClientErrorsLastMinute">Requests answered with a 4xx status in the last minute (HTTP only).</param>
/// <param name="P50Ms">Median duration of the most recent units (for connections: how long they stayed open).</param>
/// <param name="P95Ms">95th percentile duration.</param>
/// <param name="P99Ms">99th percentile duration.</param>
/// <param name="Total">Units finished since start.</param>
/// <param name="ErrorsTotal">Failed units since start.</param>
internal sealed record KindMetricsSnapshot(
    string Kind,
    double PerSecond,
    long LastMinute,
    long ErrorsLastMinute,
    double ErrorRate,
    long ClientErrorsLastMinute,
    double P50Ms,
    double P95Ms,
    double P99Ms,
    long Total,
    long ErrorsTotal);
