using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using FlowScope.Embedded.Metrics;
using FlowScope.Embedded.Queues.Internal;
using FlowScope.Embedded.Workers.Internal;
using FlowScope.Embedded.Storage;

namespace FlowScope.Embedded.Dashboard;

// The JSON shapes of the dashboard API. They are kept apart from the store's types so the wire format changes
// only on purpose.

internal sealed record TraceListResponse(IReadOnlyList<TraceSummaryDto> Traces, string? NextCursor);

internal sealed record TraceDetailResponse(string TraceId, TraceSummaryDto Summary, IReadOnlyList<SpanDto> Spans);

internal sealed record TraceSummaryDto(
    string TraceId,
    string Name,
    DateTimeOffset StartTime,
    double DurationMs,
    string Status,
    int SpanCount,
    int ErrorCount,
    int RejectedSpanCount,
    IReadOnlyList<string> Components,
    string? Instance,
    string? Route,
    string? Method,
    int? StatusCode,
    long Version,
    string Kind,
    bool Routine,
    int DatabaseCount,
    int NPlusOne,
    int DuplicateQueries,
    string KeptBecause)
{
    public static TraceSummaryDto From(TraceSummary s, RoutineRequests routine) => new(
        s.TraceId, s.Name, s.StartTime, s.Duration.TotalMilliseconds, s.IsError ? "error" : "ok", s.SpanCount,
        s.ErrorCount, s.RejectedSpanCount, s.Components, s.Instance, s.Route, s.Method, s.StatusCode, s.Version,
        s.Kind, routine.IsRoutine(s), s.DatabaseCount, s.NPlusOne, s.DuplicateQueries, RetentionName(s.KeptBecause));

    internal static string RetentionName(TraceRetention reason) => reason switch
    {
        TraceRetention.Error => "error",
        TraceRetention.Slow => "slow",
        TraceRetention.Sampled => "sampled",
        _ => "recent",
    };
}

/// <summary>The live stream's <c>evicted</c> event: traces the store no longer holds.</summary>
/// <param name="TraceIds">The evicted traces' ids, oldest eviction first.</param>
/// <param name="Overflow">More were evicted than listed: check the rest of the list against the store.</param>
internal sealed record EvictedEvent(IReadOnlyList<string> TraceIds, bool Overflow);

internal sealed record SpanDto(
    string TraceId,
    string SpanId,
    string? ParentSpanId,
    string Name,
    string Kind,
    string Component,
    DateTimeOffset StartTime,
    double DurationMs,
    string Status,
    string? StatusMessage,
    Dictionary<string, string> Attributes,
    IReadOnlyList<SpanEventDto> Events,
    IReadOnlyList<SpanLinkDto> Links,
    string Source,
    string Instance,
    double? SelfTimeMs)
{
    public static SpanDto From(SpanRecord s)
    {
        var events = new SpanEventDto[s.Events.Count];
        for (var i = 0; i < events.Length; i++)
        {
            var e = s.Events[i];
            events[i] = new SpanEventDto(e.Name, e.Timestamp, ToMap(e.Attributes));
        }

        var links = new SpanLinkDto[s.Links.Count];
        for (var i = 0; i < links.Length; i++)
        {
            links[i] = new SpanLinkDto(s.Links[i].TraceId, s.Links[i].SpanId);
        }

        return new SpanDto(
            s.TraceId, s.SpanId, s.ParentSpanId, s.Name, KindName(s.Kind), s.Component, s.StartTime,
            s.Duration.TotalMilliseconds, StatusName(s.Status), s.StatusMessage, ToMap(s.Attributes), events, links,
            s.Source, s.Instance, s.SelfTime?.TotalMilliseconds);
    }

    private static Dictionary<string, string> ToMap(IReadOnlyList<KeyValuePair<string, string>> attributes)
    {
        var map = new Dictionary<string, string>(attributes.Count, StringComparer.Ordinal);
        foreach (var pair in attributes)
        {
            map[pair.Key] = pair.Value;
        }

        return map;
    }

    private static string KindName(ActivityKind kind) => kind switch
    {
        ActivityKind.Server => "server",
        ActivityKind.Client => "client",
        ActivityKind.Producer => "producer",
        ActivityKind.Consumer => "consumer",
        _ => "internal",
    };

    private static string StatusName(ActivityStatusCode status) => status switch
    {
        ActivityStatusCode.Ok => "ok",
        ActivityStatusCode.Error => "error",
        _ => "unset",
    };
}

internal sealed record SpanEventDto(string Name, DateTimeOffset Timestamp, Dictionary<string, string> Attributes);

internal sealed record SpanLinkDto(string TraceId, string SpanId);

internal sealed record StatsResponse(
    long Captured,
    long Dropped,
    long Rejected,
    long Failed,
    long EvictedTraces,
    long EvictedSpans,
    long StoredTraces,
    long StoredSpans,
    int MaxTraces,
    long Buffered,
    int BufferCapacity,
    long MemoryBytes,
    long MemoryCapacityBytes,
    int LiveSubscribers,
    double UptimeSeconds,
    DateTimeOffset StartedAt,
    string Instance,
    Dictionary<string, IReadOnlyDictionary<string, double>> Extensions);

internal sealed record MapResponse(IReadOnlyList<ComponentNode> Nodes, IReadOnlyList<ComponentEdge> Edges, long Overflow);

/// <summary>
/// <c>api/metrics</c>. The top-level request figures are the HTTP requests' (connections excluded); <c>kinds</c> has
/// the same figures for every kind of work, <c>routes</c> the database commands per request of each route.
/// </summary>
internal sealed record MetricsResponse(
    double RequestsPerSecond,
    long InFlight,
    double LatencyP50Ms,
    double LatencyP95Ms,
    double LatencyP99Ms,
    double ErrorRate,
    long RequestsLastMinute,
    long ClientErrorsLastMinute,
    long RequestsTotal,
    long ErrorsTotal,
    double UptimeSeconds,
    IReadOnlyList<KindMetricsSnapshot> Kinds,
    IReadOnlyList<RouteQueriesSnapshot> Routes,
    long RoutesOverflow,
    IReadOnlyList<QueueMetricsSnapshot> Queues,
    IReadOnlyList<WorkerSnapshot> Workers)
{
    public static MetricsResponse From(RequestMetricsSnapshot m, double uptimeSeconds, IReadOnlyList<QueueMetricsSnapshot> queues, IReadOnlyList<WorkerSnapshot> workers)
    {
        var http = m.Http;
        return new MetricsResponse(
            http.PerSecond, m.InFlight, http.P50Ms, http.P95Ms, http.P99Ms, http.ErrorRate, http.LastMinute,
            http.ClientErrorsLastMinute, http.Total, http.ErrorsTotal, uptimeSeconds, m.Kinds, m.Routes,
            m.RoutesOverflow, queues, workers);
    }
}

internal sealed record RoutesResponse(IReadOnlyList<RouteDto> Routes, int Tracked);

/// <summary>What the store saw and keeps of one route (see <see cref="TraceRouteStats"/>).</summary>
internal sealed record RouteDto(string Route, long Seen, int Kept, int KeptForError, int KeptAsSlow, int KeptAsSample);

internal sealed record ProblemResponse(string Type, string Title, int Status, string Detail, string? Parameter);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(TraceListResponse))]
[JsonSerializable(typeof(TraceDetailResponse))]
[JsonSerializable(typeof(IReadOnlyList<TraceSummaryDto>))]
[JsonSerializable(typeof(StatsResponse))]
[JsonSerializable(typeof(EvictedEvent))]
[JsonSerializable(typeof(ProblemResponse))]
[JsonSerializable(typeof(MapResponse))]
[JsonSerializable(typeof(MetricsResponse))]
[JsonSerializable(typeof(RoutesResponse))]
[JsonSerializable(typeof(Operator.OperatorResponse))]
[JsonSerializable(typeof(Operator.FaultListResponse))]
[JsonSerializable(typeof(Operator.FaultDto))]
[JsonSerializable(typeof(Faults.FaultRequestBody))]
[JsonSerializable(typeof(Operator.SimulatorListResponse))]
[JsonSerializable(typeof(Operator.SimulatorRequestBody))]
[JsonSerializable(typeof(Simulators.Internal.SimulatorSnapshot))]
internal sealed partial class DashboardJsonContext : JsonSerializerContext;
