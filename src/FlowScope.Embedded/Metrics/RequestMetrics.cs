using FlowScope.Embedded.Buffering;
using FlowScope.Embedded.Storage;
using FlowScope.Embedded.Storage.Encoding;

namespace FlowScope.Embedded.Metrics;

/// <summary>
/// The header's live figures for every kind of work (<see cref="TraceKinds"/>): HTTP requests, connections, handled
/// messages, worker units and simulator runs, each with its rate, errors and latency; plus requests in flight and the
/// database commands per request of each route. In-flight is counted on the request path (one interlocked add at start
/// and end); the rest is computed on the pump from finished spans. A unit of work counts as failed when it, or anything
/// it started, failed (<see cref="FailedWork"/>); a request answered with 4xx is a client error, counted apart.
/// Connections are never requests: their lifetimes stay out of the request percentiles.
/// </summary>
internal sealed class RequestMetrics : ISpanBatchObserver
{
    private readonly Lock _lock = new();
    private readonly KindMetrics[] _kinds = TraceKinds.All.Where(k => k != TraceKinds.Other).Select(k => new KindMetrics(k)).ToArray();
    private readonly FailedWork _failed = new();
    private readonly RouteQueries _routes = new();
    private long _inFlight;

    public long InFlight => Interlocked.Read(ref _inFlight);

    public void RequestStarted() => Interlocked.Increment(ref _inFlight);

    public void RequestEnded() => Interlocked.Decrement(ref _inFlight);

    public void Observe(SpanBatch batch)
    {
        lock (_lock)
        {
            for (var i = 0; i < batch.Count; i++)
            {
                ObserveOne(new SpanPayload(batch.GetPayload(i)));
            }
        }
    }

    private void ObserveOne(SpanPayload span)
    {
        var failed = span.IsError | _failed.TakeFailedBelow(span.SpanId) | StagesFailed(span);
        if (failed && span.ParentId != 0)
        {
            _failed.MarkParent(span.ParentId);
        }

        if (TraceKinds.UnitOf(span) is not { } kind)
        {
            return;
        }

        var durationMs = span.DurationTicks / (double)TimeSpan.TicksPerMillisecond;
        var clientError = false;
        if (kind == TraceKinds.Http)
        {
            clientError = span.TryGetAttribute(s_status, out var status) && status.ToString() is { Length: 3 } code && code[0] == '4';
            _routes.Add(span, durationMs);
        }

        For(kind).Add(span.EndTicks, durationMs, failed, clientError);
    }

    private static readonly int s_status = WellKnownStrings.NumberOf("http.response.status_code");

    /// <summary>Whether one of a request's pipeline stages, or a span started under one, failed.</summary>
    private bool StagesFailed(SpanPayload span)
    {
        var count = span.StageCount;
        if (count == 0)
        {
            return false;
        }

        var failed = span.FailedStages > 0;
        if (_failed.IsEmpty)
        {
            return failed;
        }

        for (var i = 0; i < count; i++)
        {
            // Take every mark, so none lingers.
            failed |= _failed.TakeFailedBelow(StageSection.StageSpanId(span.SpanId, i));
        }

        return failed;
    }

    private KindMetrics For(string kind)
    {
        foreach (var k in _kinds)
        {
            if (k.Kind == kind)
            {
                return k;
            }
        }

        throw new ArgumentOutOfRangeException(nameof(kind), kind, "Not a kind of unit of work.");
    }

    public RequestMetricsSnapshot Snapshot(DateTimeOffset now)
    {
        lock (_lock)
        {
            var kinds = new KindMetricsSnapshot[_kinds.Length];
            for (var i = 0; i < kinds.Length; i++)
            {
                kinds[i] = _kinds[i].Snapshot(now);
            }

            var (routes, overflow) = _routes.Snapshot();
            return new RequestMetricsSnapshot(InFlight, kinds, routes, overflow);
        }
    }
}

/// <summary>The live figures at one moment.</summary>
/// <param name="InFlight">Requests being served now (open connections included: they are requests until they end).</param>
/// <param name="Kinds">The figures of each kind of work, HTTP requests first.</param>
/// <param name="Routes">Database commands per request of each route, most per request first.</param>
/// <param name="RoutesOverflow">Requests of routes beyond the route limit, not in <paramref name="Routes"/>.</param>
internal sealed record RequestMetricsSnapshot(
    long InFlight,
    IReadOnlyList<KindMetricsSnapshot> Kinds,
    IReadOnlyList<RouteQueriesSnapshot> Routes,
    long RoutesOverflow)
{
    /// <summary>The HTTP requests' figures.</summary>
    public KindMetricsSnapshot Http => Kinds[0];
}
