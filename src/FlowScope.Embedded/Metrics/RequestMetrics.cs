using FlowScope.Embedded.Buffering;
using FlowScope.Embedded.Storage;
using FlowScope.Embedded.Storage.Encoding;

namespace FlowScope.Embedded.Metrics;

/// <summary>
/// Request-level live figures: requests per second, in-flight requests, latency percentiles and error rate.
/// In-flight is counted on the request path (one interlocked add at start and end); the rest is computed on the
/// pump from finished request spans.
/// </summary>
internal sealed class RequestMetrics : ISpanBatchObserver
{
    private readonly Lock _lock = new();
    private readonly RateWindow _rate = new();
    private readonly DurationReservoir _latency = new(2_048);
    private long _inFlight;
    private long _total;
    private long _errors;

    public long InFlight => Interlocked.Read(ref _inFlight);

    public void RequestStarted() => Interlocked.Increment(ref _inFlight);

    public void RequestEnded() => Interlocked.Decrement(ref _inFlight);

    public void Observe(SpanBatch batch)
    {
        lock (_lock)
        {
            for (var i = 0; i < batch.Count; i++)
            {
                var span = new SpanPayload(batch.GetPayload(i));
                if (span.Kind != System.Diagnostics.ActivityKind.Server || !IsServer(span.Component))
                {
                    continue;
                }

                var error = span.IsError;
                _rate.Add(span.EndTicks, error);
                _latency.Add(span.DurationTicks / (double)TimeSpan.TicksPerMillisecond);
                _total++;
                if (error)
                {
                    _errors++;
                }
            }
        }
    }

    private static readonly int s_server = WellKnownStrings.NumberOf(SpanComponents.Server);

    private static bool IsServer(in Text component) => component.Number == s_server;

    public RequestMetricsSnapshot Snapshot(DateTimeOffset now)
    {
        lock (_lock)
        {
            var recent = _rate.Over(now, 10);
            var minute = _rate.Over(now, 60);
            var p = _latency.Percentiles(50, 95, 99);
            return new RequestMetricsSnapshot(
                recent.PerSecond,
                InFlight,
                p[0],
                p[1],
                p[2],
                minute.Count == 0 ? 0 : Math.Round(minute.Errors / (double)minute.Count, 4),
                minute.Count,
                _total,
                _errors);
        }
    }
}

/// <summary>Request-level figures at one moment.</summary>
internal sealed record RequestMetricsSnapshot(
    double RequestsPerSecond,
    long InFlight,
    double LatencyP50Ms,
    double LatencyP95Ms,
    double LatencyP99Ms,
    double ErrorRate,
    long RequestsLastMinute,
    long RequestsTotal,
    long ErrorsTotal);
