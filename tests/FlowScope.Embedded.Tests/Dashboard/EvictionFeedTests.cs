using FlowScope.Embedded.Storage;
using static FlowScope.Embedded.Tests.TestSpans;

namespace FlowScope.Embedded.Tests.Dashboard;

/// <summary>The store tells the live list which traces it evicted (contract 6), and filters by kind, status class and N+1.</summary>
public sealed class EvictionFeedTests
{
    [Fact]
    public async Task Changes_name_the_traces_evicted_since_the_reader_s_version()
    {
        var store = NewStore(maxTraces: 3, maxSpansPerTrace: 10);
        await store.AddAsync([Root(1), Root(2), Root(3)]);
        var seen = store.GetStats().Version;
        await store.AddAsync([Root(4), Root(5)]);

        var changes = await store.GetChangesAsync(seen, 100);

        Assert.Equal([TraceId(1), TraceId(2)], changes.Evicted.Order(StringComparer.Ordinal));
        Assert.False(changes.EvictedOverflow);
        Assert.Empty((await store.GetChangesAsync(changes.Version, 100)).Evicted);
    }

    [Fact]
    public async Task A_trace_evicted_and_started_again_by_a_late_span_is_not_reported_gone()
    {
        var store = NewStore(maxTraces: 2, maxSpansPerTrace: 10);
        await store.AddAsync([Root(1), Root(2)]);
        await store.AddAsync([Root(3)]);
        await store.AddAsync([Span(TraceId(1), SpanId(100), parent: SpanId(1))]);

        var changes = await store.GetChangesAsync(0, 100);

        Assert.DoesNotContain(TraceId(1), changes.Evicted);
        Assert.Contains(TraceId(2), changes.Evicted);
        Assert.Contains(changes.Traces, t => t.TraceId == TraceId(1));
    }

    [Fact]
    public async Task A_reader_further_behind_than_the_remembered_evictions_is_told_to_resync()
    {
        var store = NewStore(maxTraces: 1, maxSpansPerTrace: 10);
        await store.AddAsync([Root(1)]);
        var seen = store.GetStats().Version;
        for (var i = 2; i < Storage.Memory.RecentEvictions.Capacity + 10; i++)
        {
            await store.AddAsync([Root(i)]);
        }

        var changes = await store.GetChangesAsync(seen, 100);

        Assert.True(changes.EvictedOverflow);
        Assert.False((await store.GetChangesAsync(store.GetStats().Version - 1, 100)).EvictedOverflow);
    }

    [Fact]
    public async Task Queries_filter_by_status_class_kind_and_N_plus_one()
    {
        var store = NewStore(maxTraces: 100, maxSpansPerTrace: 10);
        await store.AddAsync([
            Span(TraceId(1), SpanId(1), name: "GET /ok", attributes: [("http.request.method", "GET"), ("http.response.status_code", "200")]),
            Span(TraceId(2), SpanId(2), name: "GET /missing", attributes: [("http.request.method", "GET"), ("http.response.status_code", "404")]),
            Span(TraceId(3), SpanId(3), name: "GET /articles", attributes: [("http.request.method", "GET"), ("http.response.status_code", "200"), ("flowscope.db.count", "24"), ("flowscope.db.n_plus_one", "23"), ("flowscope.db.duplicates", "2")]),
            Span(TraceId(4), SpanId(4), name: "simulate chat", component: SpanComponents.Simulator),
        ]);

        async Task<string[]> Names(TraceQuery query) => (await store.QueryAsync(query)).Traces.Select(t => t.Name).Order(StringComparer.Ordinal).ToArray();

        Assert.Equal(["GET /missing"], await Names(new TraceQuery { StatusClass = 4 }));
        Assert.Equal(["GET /articles", "GET /ok"], await Names(new TraceQuery { StatusClass = 2 }));
        Assert.Equal(["simulate chat"], await Names(new TraceQuery { Kind = "simulator" }));
        Assert.Equal(["GET /articles"], await Names(new TraceQuery { NPlusOne = true }));
        var articles = (await store.GetTraceAsync(TraceId(3)))!.Summary;
        Assert.Equal((24, 23, 2, "http"), (articles.DatabaseCount, articles.NPlusOne, articles.DuplicateQueries, articles.Kind));
    }
}
