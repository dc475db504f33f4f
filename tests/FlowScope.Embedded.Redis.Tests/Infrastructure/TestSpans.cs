using System.Diagnostics;
using FlowScope.Embedded.Storage;

namespace FlowScope.Embedded.Redis.Tests.Infrastructure;

/// <summary>Builds realistic span records: one request trace is a server root with middleware and endpoint children.</summary>
public static class TestSpans
{
    private static readonly DateTimeOffset s_base = new(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);

    public static string NewTraceId() => ActivityTraceId.CreateRandom().ToHexString();

    public static string NewSpanId() => ActivitySpanId.CreateRandom().ToHexString();

    /// <summary>A trace of <paramref name="spanCount"/> spans recorded by <paramref name="instance"/>.</summary>
    public static SpanRecord[] Trace(string instance, int spanCount = 3, string? traceId = null, string route = "/api/rooms/{id}")
    {
        traceId ??= NewTraceId();
        var rootId = NewSpanId();
        var start = s_base.AddMilliseconds(Random.Shared.Next(0, 1_000_000));
        var spans = new SpanRecord[spanCount];
        spans[0] = new SpanRecord(
            traceId, rootId, null, $"GET {route}", ActivityKind.Server, SpanComponents.Server, start, TimeSpan.FromMilliseconds(12.5),
            ActivityStatusCode.Unset, null,
            [new("http.request.method", "GET"), new("http.route", route), new("url.path", "/api/rooms/42"), new("http.response.status_code", "200")],
            [], [], "Microsoft.AspNetCore", instance);
        for (var i = 1; i < spanCount; i++)
        {
            spans[i] = new SpanRecord(
                traceId, NewSpanId(), rootId, i % 2 == 1 ? "RoutingMiddleware" : "Endpoint", ActivityKind.Internal,
                i % 2 == 1 ? SpanComponents.Middleware : SpanComponents.Endpoint, start.AddMilliseconds(i * 0.5), TimeSpan.FromMilliseconds(10 - (i % 10)),
                ActivityStatusCode.Ok, null, [new("flowscope.stage", "pipeline")], [], [], "FlowScope.Embedded.Pipeline", instance);
        }

        return spans;
    }

    /// <summary>The payload of a stream entry holding <paramref name="spans"/>, as a writer makes it.</summary>
    public static byte[] EntryPayload(IReadOnlyList<SpanRecord> spans, bool compress)
    {
        var serialized = new System.Buffers.ArrayBufferWriter<byte>();
        SpanBatch.Encode(spans).WriteTo(serialized);
        return compress ? Redis.Internal.StreamEntryFormat.Compress(serialized.WrittenSpan) : serialized.WrittenSpan.ToArray();
    }

    /// <summary>Adds records the way the pump adds spans: encoded, in one batch.</summary>
    public static ValueTask AddAsync(this ITraceStore store, IReadOnlyList<SpanRecord> spans) => store.AddAsync(SpanBatch.Encode(spans));

    internal static bool TryEnqueue(this Redis.Internal.RedisStreamWriter writer, IReadOnlyList<SpanRecord> spans) => writer.TryEnqueue(SpanBatch.Encode(spans));

    /// <summary><paramref name="traceCount"/> traces of <paramref name="spansPerTrace"/> spans, flattened.</summary>
    public static SpanRecord[] Traces(string instance, int traceCount, int spansPerTrace = 3)
    {
        var all = new List<SpanRecord>(traceCount * spansPerTrace);
        for (var i = 0; i < traceCount; i++)
        {
            all.AddRange(Trace(instance, spansPerTrace));
        }

        return [.. all];
    }
}
