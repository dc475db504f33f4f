using System.Diagnostics;
using FlowScope.Embedded.Storage;

namespace FlowScope.Embedded.Tests;

/// <summary>Builds span records for store tests.</summary>
internal static class TestSpans
{
    public static readonly DateTimeOffset T0 = new(2026, 11, 22, 10, 0, 0, TimeSpan.Zero);

    public static string TraceId(int n) => "a" + n.ToString("x31");

    public static string SpanId(int n) => "b" + n.ToString("x15");

    public static SpanRecord Span(
        string traceId,
        string spanId,
        string? parent = null,
        string name = "GET /things",
        double startMs = 0,
        double durationMs = 10,
        ActivityStatusCode status = ActivityStatusCode.Unset,
        string component = SpanComponents.Server,
        (string Key, string Value)[]? attributes = null,
        SpanEvent[]? events = null,
        string? statusMessage = null) =>
        new(
            traceId,
            spanId,
            parent,
            name,
            parent is null ? ActivityKind.Server : ActivityKind.Internal,
            component,
            T0.AddMilliseconds(startMs),
            TimeSpan.FromMilliseconds(durationMs),
            status,
            statusMessage,
            (attributes ?? []).Select(a => KeyValuePair.Create(a.Key, a.Value)).ToArray(),
            events ?? [],
            [],
            "test",
            "test-instance");

    /// <summary>A store of the smallest capacity, bounded further by a trace count when given.</summary>
    public static InMemoryTraceStore NewStore(int maxTraces = 0, int maxSpansPerTrace = FlowScopeOptions.DefaultMaxSpansPerTrace) =>
        new(InMemoryTraceStore.MinCapacityBytes, maxSpansPerTrace, maxTraces);

    public static InMemoryTraceStore NewStore(FlowScopeOptions options) => NewStore(options.MaxTraces, options.MaxSpansPerTrace);

    /// <summary>Records in their encoded form, as the pump hands them on.</summary>
    public static SpanBatch Batch(params SpanRecord[] spans) => SpanBatch.Encode(spans);

    /// <summary>Adds records the way the pump adds spans: encoded, in one batch.</summary>
    public static ValueTask AddAsync(this ITraceStore store, IReadOnlyList<SpanRecord> spans) => store.AddAsync(SpanBatch.Encode(spans));

    /// <summary>A one-span trace number <paramref name="n"/> starting <paramref name="n"/> ms after T0.</summary>
    public static SpanRecord Root(int n, string name = "GET /things", double durationMs = 10, ActivityStatusCode status = ActivityStatusCode.Unset) =>
        Span(TraceId(n), SpanId(n), name: name, startMs: n, durationMs: durationMs, status: status);
}
