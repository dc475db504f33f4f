using FlowScope.Embedded.Redis.Tests.Infrastructure;
using FlowScope.Embedded.Storage;

namespace FlowScope.Embedded.Redis.Tests;

/// <summary>
/// The <see cref="ITraceStore"/> contract, run against the in-memory store and the Redis-backed store: with Redis
/// configured the dashboard must behave exactly as without it.
/// </summary>
public abstract class TraceStoreContractTests : IAsyncLifetime
{
    protected ITraceStore Store { get; private set; } = null!;

    /// <summary>A store of this kind, with the given limits (0: the defaults and no trace limit).</summary>
    protected abstract Task<ITraceStore> CreateStoreAsync(int maxTraces = 0, int maxSpansPerTrace = FlowScopeOptions.DefaultMaxSpansPerTrace);

    public async Task InitializeAsync() => Store = await CreateStoreAsync();

    public virtual Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task Added_spans_are_found_by_trace_id_ordered_by_start()
    {
        var spans = TestSpans.Trace("web-1", 5);
        await Store.AddAsync(spans.Reverse().ToArray());

        var trace = await Store.GetTraceAsync(spans[0].TraceId);

        Assert.NotNull(trace);
        Assert.Equal(spans.Select(s => s.SpanId), trace.Spans.Select(s => s.SpanId));
        Assert.Equal(5, trace.Summary.SpanCount);
        Assert.Equal(spans[0].Name, trace.Summary.Name);
        Assert.Null(await Store.GetTraceAsync(TestSpans.NewTraceId()));
    }

    [Fact]
    public async Task Late_spans_join_their_trace()
    {
        var spans = TestSpans.Trace("web-1", 4);
        await Store.AddAsync(spans[..2]);
        await Store.AddAsync(TestSpans.Trace("web-1", 2));
        await Store.AddAsync(spans[2..]);

        var trace = await Store.GetTraceAsync(spans[0].TraceId);
        Assert.Equal(4, trace!.Spans.Count);
        Assert.Equal(2, (await Store.QueryAsync(new TraceQuery())).Traces.Count);
    }

    [Fact]
    public async Task Queries_page_newest_first_with_a_cursor()
    {
        for (var i = 0; i < 7; i++)
        {
            await Store.AddAsync(TestSpans.Trace("web-1", 2));
        }

        var first = await Store.QueryAsync(new TraceQuery { Limit = 4 });
        var second = await Store.QueryAsync(new TraceQuery { Limit = 4, Cursor = first.NextCursor });

        Assert.Equal(4, first.Traces.Count);
        Assert.NotNull(first.NextCursor);
        Assert.Equal(3, second.Traces.Count);
        Assert.Null(second.NextCursor);
        var all = first.Traces.Concat(second.Traces).ToList();
        Assert.Equal(all.OrderByDescending(t => t.StartTime).Select(t => t.TraceId), all.Select(t => t.TraceId));
        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await Store.QueryAsync(new TraceQuery { Cursor = "nonsense" }));
    }

    [Fact]
    public async Task Changes_report_each_updated_trace_once_with_its_latest_state()
    {
        var before = Store.GetStats().Version;
        var a = TestSpans.Trace("web-1", 3);
        var b = TestSpans.Trace("web-1", 2);
        await Store.AddAsync(a[..1]);
        await Store.AddAsync(b);
        await Store.AddAsync(a[1..]);

        var changes = await Store.GetChangesAsync(before, 100);

        Assert.Equal([b[0].TraceId, a[0].TraceId], changes.Traces.Select(t => t.TraceId));
        Assert.Equal(3, changes.Traces[1].SpanCount);
        Assert.Equal(Store.GetStats().Version, changes.Version);
        Assert.False(changes.HasMore);
        Assert.Equal(5, Store.GetStats().StoredSpans);
    }

    [Fact]
    public async Task Filters_select_by_name_or_route_status_duration_and_time()
    {
        var slow = Shaped(name: "GET /orders/{id}", route: "/orders/{id}", durationMs: 250, startMs: 0);
        var failed = Shaped(name: "POST /payments", route: "/payments", durationMs: 40, startMs: 1_000, error: true);
        var fast = Shaped(name: "GET /health", route: null, durationMs: 1, startMs: 2_000);
        await Store.AddAsync([.. slow, .. failed, .. fast]);

        Assert.Equal([slow[0].TraceId], await IdsAsync(new TraceQuery { Name = "ORDERS" }));
        Assert.Equal([failed[0].TraceId], await IdsAsync(new TraceQuery { Name = "/payments" }));
        Assert.Equal([failed[0].TraceId], await IdsAsync(new TraceQuery { Status = TraceStatusFilter.Error }));
        Assert.Equal([fast[0].TraceId, slow[0].TraceId], await IdsAsync(new TraceQuery { Status = TraceStatusFilter.Ok }));
        Assert.Equal([failed[0].TraceId, slow[0].TraceId], await IdsAsync(new TraceQuery { MinDuration = TimeSpan.FromMilliseconds(40) }));
        Assert.Equal([fast[0].TraceId, failed[0].TraceId], await IdsAsync(new TraceQuery { MaxDuration = TimeSpan.FromMilliseconds(40) }));
        Assert.Equal([failed[0].TraceId], await IdsAsync(new TraceQuery { From = s_t0.AddMilliseconds(500), To = s_t0.AddMilliseconds(1_500) }));
        Assert.Equal([slow[0].TraceId, failed[0].TraceId, fast[0].TraceId], await IdsAsync(new TraceQuery { Sort = TraceSort.Duration }));
    }

    [Fact]
    public async Task Text_component_and_attribute_filters_look_inside_every_span()
    {
        var withLog = Shaped(name: "GET /a", route: "/a", startMs: 0, childEvent: "Loading customer Ünïcode 42");
        var withDb = Shaped(name: "GET /b", route: "/b", startMs: 10, childComponent: SpanComponents.Database, childName: "SELECT orders", childAttribute: ("db.system.name", "sqlite"));
        var plain = Shaped(name: "GET /c", route: "/c", startMs: 20);
        await Store.AddAsync([.. withLog, .. withDb, .. plain]);

        Assert.Equal([withLog[0].TraceId], await IdsAsync(new TraceQuery { Text = "customer ünïcode" }));
        Assert.Equal([withDb[0].TraceId], await IdsAsync(new TraceQuery { Text = "select ORDERS" }));
        Assert.Empty(await IdsAsync(new TraceQuery { Text = "not in any span" }));
        Assert.Equal([withDb[0].TraceId], await IdsAsync(new TraceQuery { Component = "database" }));
        Assert.Equal([withDb[0].TraceId], await IdsAsync(new TraceQuery { Component = "select orders" }));
        Assert.Equal([withDb[0].TraceId], await IdsAsync(new TraceQuery { AttributeKey = "db.system.name" }));
        Assert.Equal([withDb[0].TraceId], await IdsAsync(new TraceQuery { AttributeKey = "db.system.name", AttributeValue = "SQLITE" }));
        Assert.Empty(await IdsAsync(new TraceQuery { AttributeKey = "db.system.name", AttributeValue = "postgresql" }));
        Assert.Equal(["database", "server"], (await Store.GetTraceAsync(withDb[0].TraceId))!.Summary.Components.Order());
    }

    [Fact]
    public async Task Traces_marked_with_N_plus_one_are_selected_by_the_filter()
    {
        var marked = Shaped(name: "GET /articles", route: "/articles", startMs: 0, rootAttributes: [("flowscope.db.count", "24"), ("flowscope.db.n_plus_one", "23"), ("flowscope.db.duplicates", "2")]);
        var clean = Shaped(name: "GET /users", route: "/users", startMs: 10, rootAttributes: [("flowscope.db.count", "3"), ("flowscope.db.n_plus_one", "0"), ("flowscope.db.duplicates", "0")]);
        await Store.AddAsync([.. marked, .. clean]);

        var found = Assert.Single((await Store.QueryAsync(new TraceQuery { NPlusOne = true })).Traces);
        Assert.Equal(marked[0].TraceId, found.TraceId);
        Assert.Equal((24, 23, 2), (found.DatabaseCount, found.NPlusOne, found.DuplicateQueries));
        Assert.Equal(3, (await Store.GetTraceAsync(clean[0].TraceId))!.Summary.DatabaseCount);
    }

    [Fact]
    public async Task Paging_by_duration_visits_every_trace_once_in_order()
    {
        for (var i = 0; i < 9; i++)
        {
            await Store.AddAsync(Shaped(name: "GET /x", route: "/x", durationMs: 1 + (i * 7 % 9), startMs: i));
        }

        var seen = new List<TraceSummary>();
        string? cursor = null;
        do
        {
            var page = await Store.QueryAsync(new TraceQuery { Sort = TraceSort.Duration, Limit = 4, Cursor = cursor });
            seen.AddRange(page.Traces);
            cursor = page.NextCursor;
        }
        while (cursor is not null);

        Assert.Equal(9, seen.Select(t => t.TraceId).Distinct().Count());
        Assert.Equal(seen.OrderByDescending(t => t.Duration).Select(t => t.Duration), seen.Select(t => t.Duration));
    }

    [Fact]
    public async Task Limits_evict_and_reject_and_every_span_is_accounted_for()
    {
        var store = await CreateStoreAsync(maxTraces: 3, maxSpansPerTrace: 4);
        var traces = Enumerable.Range(0, 5).Select(i => Shaped(name: "GET /t", route: "/t", startMs: i)).ToArray();
        foreach (var trace in traces)
        {
            await store.AddAsync(trace);
        }

        // Three more spans for the newest trace: only two fit under its span limit.
        var newest = traces[^1];
        await store.AddAsync([.. Enumerable.Range(0, 3).Select(i => Child(newest[0], "late " + i, 100 + i))]);

        var stats = store.GetStats();
        Assert.Equal(3, stats.StoredTraces);
        Assert.Equal(2, stats.EvictedTraces);
        Assert.Equal(4, stats.EvictedSpans);
        Assert.Equal(1, stats.RejectedSpans);
        Assert.Equal(8, stats.StoredSpans);
        Assert.Equal(13, stats.StoredSpans + stats.EvictedSpans + stats.RejectedSpans);
        Assert.Null(await store.GetTraceAsync(traces[0][0].TraceId));
        var kept = (await store.GetTraceAsync(newest[0].TraceId))!;
        Assert.Equal(4, kept.Spans.Count);
        Assert.Equal(1, kept.Summary.RejectedSpanCount);

        // The live stream learns which traces left.
        var changes = await store.GetChangesAsync(0, 100);
        Assert.Contains(traces[0][0].TraceId, changes.Evicted);
        Assert.Contains(traces[1][0].TraceId, changes.Evicted);
    }

    private static readonly DateTimeOffset s_t0 = new(2026, 12, 6, 8, 0, 0, TimeSpan.Zero);

    private async Task<string[]> IdsAsync(TraceQuery query) => [.. (await Store.QueryAsync(query)).Traces.Select(t => t.TraceId)];

    /// <summary>A request trace: a server root and one child, shaped by the arguments.</summary>
    private static SpanRecord[] Shaped(
        string name,
        string? route,
        double durationMs = 10,
        double startMs = 0,
        bool error = false,
        string? childEvent = null,
        string childComponent = SpanComponents.Middleware,
        string childName = "RoutingMiddleware",
        (string Key, string Value)? childAttribute = null,
        (string Key, string Value)[]? rootAttributes = null)
    {
        var traceId = TestSpans.NewTraceId();
        var rootId = TestSpans.NewSpanId();
        var start = s_t0.AddMilliseconds(startMs);
        var attributes = new List<KeyValuePair<string, string>> { new("http.request.method", "GET") };
        if (route is not null)
        {
            attributes.Add(new("http.route", route));
        }

        attributes.AddRange((rootAttributes ?? []).Select(a => KeyValuePair.Create(a.Key, a.Value)));
        var root = new SpanRecord(traceId, rootId, null, name, System.Diagnostics.ActivityKind.Server, SpanComponents.Server, start, TimeSpan.FromMilliseconds(durationMs),
            error ? System.Diagnostics.ActivityStatusCode.Error : System.Diagnostics.ActivityStatusCode.Unset, error ? "failed" : null, [.. attributes], [], [], "Microsoft.AspNetCore", "web-1");
        var child = new SpanRecord(traceId, TestSpans.NewSpanId(), rootId, childName, System.Diagnostics.ActivityKind.Internal, childComponent, start.AddTicks(10), TimeSpan.FromMilliseconds(durationMs / 2),
            System.Diagnostics.ActivityStatusCode.Unset, null, childAttribute is { } a ? [KeyValuePair.Create(a.Key, a.Value)] : [],
            childEvent is null ? [] : [new SpanEvent(childEvent, start.AddTicks(20), [])], [], "test", "web-1");
        return [root, child];
    }

    private static SpanRecord Child(SpanRecord root, string name, double startMs) =>
        new(root.TraceId, TestSpans.NewSpanId(), root.SpanId, name, System.Diagnostics.ActivityKind.Internal, SpanComponents.Custom, root.StartTime.AddMilliseconds(startMs), TimeSpan.FromMilliseconds(1),
            System.Diagnostics.ActivityStatusCode.Unset, null, [], [], [], "test", "web-1");
}

public sealed class InMemoryTraceStoreContractTests : TraceStoreContractTests
{
    protected override Task<ITraceStore> CreateStoreAsync(int maxTraces = 0, int maxSpansPerTrace = FlowScopeOptions.DefaultMaxSpansPerTrace) =>
        Task.FromResult<ITraceStore>(new InMemoryTraceStore(InMemoryTraceStore.MinCapacityBytes, maxSpansPerTrace, maxTraces));
}

public sealed class RedisTraceStoreContractTests(RedisServer server) : TraceStoreContractTests, IClassFixture<RedisServer>
{
    private readonly List<RedisStack> _stacks = [];

    protected override async Task<ITraceStore> CreateStoreAsync(int maxTraces = 0, int maxSpansPerTrace = FlowScopeOptions.DefaultMaxSpansPerTrace)
    {
        var stack = await RedisStack.StartAsync(server, RedisStack.NewPrefix(), "web-1", configureCore: o =>
        {
            o.MaxTraces = maxTraces;
            o.MaxSpansPerTrace = maxSpansPerTrace;
        });
        _stacks.Add(stack);
        Assert.IsType<Internal.RedisTraceStore>(stack.Store);
        return stack.Store;
    }

    public override async Task DisposeAsync()
    {
        foreach (var stack in _stacks)
        {
            // Everything added through the contract also reached Redis.
            await stack.FlushedAsync();
            Assert.Equal(0, stack.Writer.GetStats().Dropped);
            await stack.DisposeAsync();
        }
    }
}
