using System.Diagnostics;
using FlowScope.Embedded.Storage;
using static FlowScope.Embedded.Tests.TestSpans;

namespace FlowScope.Embedded.Tests;

/// <summary>The in-memory store holds no more than its cap in bytes, however much arrives, and says what it let go.</summary>
public sealed class MemoryCapTests
{
    private const int SegmentSize = 64 * 1024;
    private const long Capacity = 16L * SegmentSize;

    [Fact]
    public async Task A_flood_far_beyond_the_cap_stays_within_it_and_every_eviction_is_counted()
    {
        var store = new InMemoryTraceStore(Capacity, maxSpansPerTrace: 1_000, maxTraces: 0, SegmentSize);
        const int Traces = 50_000;
        var added = 0L;
        for (var batch = 0; batch < Traces / 500; batch++)
        {
            var spans = new List<SpanRecord>(1_000);
            for (var t = batch * 500; t < (batch + 1) * 500; t++)
            {
                spans.Add(Span(TraceId(t), SpanId(2 * t + 1), name: "GET /things/" + t, startMs: t, attributes: [("url.path", "/things/" + t)]));
                spans.Add(Span(TraceId(t), SpanId(2 * t + 2), parent: SpanId(2 * t + 1), name: "RoutingMiddleware", startMs: t, component: SpanComponents.Middleware));
            }

            await store.AddAsync(spans);
            added += spans.Count;
            var stats = store.GetStats();
            Assert.True(stats.MemoryBytes <= Capacity, $"the store holds {stats.MemoryBytes:N0} bytes, over its cap of {Capacity:N0}");
        }

        var final = store.GetStats();
        Assert.Equal(Capacity, final.CapacityBytes);
        Assert.True(final.EvictedTraces > 0);
        Assert.Equal(added, final.StoredSpans + final.EvictedSpans);
        Assert.Equal(Traces, final.StoredTraces + final.EvictedTraces);

        // The newest traces are there, whole; the oldest are gone.
        var newest = (await store.GetTraceAsync(TraceId(Traces - 1)))!;
        Assert.Equal(2, newest.Spans.Count);
        Assert.Null(await store.GetTraceAsync(TraceId(0)));
        var page = await store.QueryAsync(new TraceQuery { Limit = 10 });
        Assert.Equal(TraceId(Traces - 1), page.Traces[0].TraceId);
    }

    [Fact]
    public async Task A_trace_still_receiving_spans_outlives_the_segment_its_first_spans_were_in()
    {
        var store = new InMemoryTraceStore(Capacity, maxSpansPerTrace: 1_000, maxTraces: 0, SegmentSize);
        var longLived = TraceId(1_000_000);
        await store.AddAsync([Span(longLived, SpanId(1), name: "POST /orders", startMs: 0)]);

        // Many other traces go by while the long-lived one gets a late span now and then (a queue handler, a retry).
        for (var round = 0; round < 40; round++)
        {
            await store.AddAsync([.. Enumerable.Range(round * 1_000, 1_000).Select(t => Span(TraceId(t), SpanId(t + 10), startMs: 1 + t, attributes: [("payload", new string('x', 40))]))]);
            await store.AddAsync([Span(longLived, SpanId(100 + round), parent: SpanId(1), name: "process order", startMs: 1 + round, component: SpanComponents.Queue)]);
        }

        Assert.True(store.GetStats().EvictedTraces > 20_000, "the ring went round several times");
        var trace = (await store.GetTraceAsync(longLived))!;
        Assert.Equal(41, trace.Spans.Count);
        Assert.Equal("POST /orders", trace.Summary.Name);
        Assert.Equal(41, trace.Summary.SpanCount);
    }

    [Fact]
    public async Task The_store_holds_no_object_per_trace()
    {
        var before = Heap();
        var store = new InMemoryTraceStore(InMemoryTraceStore.MinCapacityBytes, maxSpansPerTrace: 1_000);
        async Task FillAsync(int from)
        {
            for (var batch = 0; batch < 60; batch++)
            {
                var first = from + (batch * 1_000);
                await store.AddAsync([.. Enumerable.Range(first, 1_000).Select(t => Span(TraceId(t), SpanId(t + 1), startMs: t, attributes: [("url.path", "/things/" + t)]))]);
            }
        }

        // Full, and evicting: what the heap holds is the store's own figure (its arrays), not an object per trace.
        await FillAsync(0);
        var stats = store.GetStats();
        var full = Heap();
        Assert.True(stats.EvictedTraces > 0 && stats.StoredTraces > 20_000, $"{stats.StoredTraces} traces held, {stats.EvictedTraces} evicted");
        Assert.InRange(full - before, 0, stats.MemoryBytes + (1024 * 1024));

        // Sixty thousand more traces through the full store: the heap does not grow.
        await FillAsync(1_000_000);
        Assert.InRange(Heap() - full, long.MinValue, 512 * 1024);
        GC.KeepAlive(store);
    }

    private static long Heap()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        return GC.GetTotalMemory(forceFullCollection: true);
    }
}
