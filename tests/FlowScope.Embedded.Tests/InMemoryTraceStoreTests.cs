using System.Diagnostics;
using FlowScope.Embedded.Storage;
using static FlowScope.Embedded.Tests.TestSpans;

namespace FlowScope.Embedded.Tests;

public sealed class InMemoryTraceStoreTests
{
    private readonly InMemoryTraceStore _store = NewStore(maxTraces: 100, maxSpansPerTrace: 10);

    [Fact]
    public async Task Spans_of_one_trace_form_one_trace_whose_root_names_it_even_when_children_arrive_first()
    {
        var trace = TraceId(1);
        await _store.AddAsync([Span(trace, SpanId(2), parent: SpanId(1), name: "child", startMs: 2, durationMs: 3, component: SpanComponents.Middleware)]);
        await _store.AddAsync([Span(trace, SpanId(1), name: "GET /orders/{id}", startMs: 0, durationMs: 20)]);

        var detail = await _store.GetTraceAsync(trace);

        Assert.NotNull(detail);
        Assert.Equal("GET /orders/{id}", detail.Summary.Name);
        Assert.Equal(2, detail.Summary.SpanCount);
        Assert.Equal(TimeSpan.FromMilliseconds(20), detail.Summary.Duration);
        Assert.Equal(["middleware", "server"], detail.Summary.Components.Order());
        Assert.Equal(["GET /orders/{id}", "child"], detail.Spans.Select(s => s.Name));
    }

    [Fact]
    public async Task A_late_span_joins_its_existing_trace_and_extends_its_duration()
    {
        var trace = TraceId(7);
        await _store.AddAsync([Span(trace, SpanId(1), startMs: 0, durationMs: 10)]);
        var before = (await _store.GetTraceAsync(trace))!.Summary;

        // A queue handler finishes long after the response.
        await _store.AddAsync([Span(trace, SpanId(2), parent: SpanId(1), name: "process orders", startMs: 500, durationMs: 100, component: SpanComponents.Queue)]);
        var after = (await _store.GetTraceAsync(trace))!.Summary;

        Assert.Equal(1, _store.GetStats().StoredTraces);
        Assert.Equal(2, after.SpanCount);
        Assert.Equal(TimeSpan.FromMilliseconds(600), after.Duration);
        Assert.True(after.Version > before.Version);
    }

    [Fact]
    public async Task The_least_recently_changed_traces_are_evicted_beyond_MaxTraces_and_counted()
    {
        var store = TestSpans.NewStore(maxTraces: 3, maxSpansPerTrace: 10);
        await store.AddAsync([Root(1), Root(2), Root(3)]);
        await store.AddAsync([Span(TraceId(1), SpanId(100), parent: SpanId(1))]); // trace 1 changes: now the newest
        await store.AddAsync([Root(4), Root(5)]);

        var stats = store.GetStats();
        Assert.Equal(3, stats.StoredTraces);
        Assert.Equal(2, stats.EvictedTraces);
        Assert.Equal(2, stats.EvictedSpans);
        Assert.Equal(4, stats.StoredSpans);
        Assert.Null(await store.GetTraceAsync(TraceId(2)));
        Assert.Null(await store.GetTraceAsync(TraceId(3)));
        Assert.NotNull(await store.GetTraceAsync(TraceId(1)));
    }

    [Fact]
    public async Task Spans_beyond_MaxSpansPerTrace_are_rejected_and_counted_on_the_trace_and_the_store()
    {
        var store = TestSpans.NewStore(maxTraces: 10, maxSpansPerTrace: 3);
        var trace = TraceId(1);
        await store.AddAsync(Enumerable.Range(1, 5).Select(i => Span(trace, SpanId(i), parent: i == 1 ? null : SpanId(1))).ToArray());

        var detail = (await store.GetTraceAsync(trace))!;
        Assert.Equal(3, detail.Spans.Count);
        Assert.Equal(2, detail.Summary.RejectedSpanCount);
        Assert.Equal(2, store.GetStats().RejectedSpans);
    }

    [Fact]
    public async Task Queries_return_newest_first()
    {
        await _store.AddAsync([Root(1), Root(3), Root(2)]);
        var page = await _store.QueryAsync(new TraceQuery());
        Assert.Equal([TraceId(3), TraceId(2), TraceId(1)], page.Traces.Select(t => t.TraceId));
        Assert.Null(page.NextCursor);
    }

    [Fact]
    public async Task Name_filter_matches_name_or_route_case_insensitively()
    {
        await _store.AddAsync([
            Span(TraceId(1), SpanId(1), name: "GET /orders/{id}", attributes: [("http.route", "/orders/{id}")]),
            Root(2, name: "POST /payments"),
            Root(3, name: "worker tick"),
        ]);

        Assert.Equal([TraceId(1)], (await _store.QueryAsync(new TraceQuery { Name = "ORDERS" })).Traces.Select(t => t.TraceId));
        Assert.Equal([TraceId(2)], (await _store.QueryAsync(new TraceQuery { Name = "post /pay" })).Traces.Select(t => t.TraceId));
        Assert.Empty((await _store.QueryAsync(new TraceQuery { Name = "nothing" })).Traces);
    }

    [Fact]
    public async Task Status_filter_separates_failed_traces()
    {
        await _store.AddAsync([
            Root(1),
            Root(2, status: ActivityStatusCode.Error),
            Span(TraceId(3), SpanId(3), startMs: 3),
            Span(TraceId(3), SpanId(4), parent: SpanId(3), startMs: 4, status: ActivityStatusCode.Error),
        ]);

        Assert.Equal([TraceId(3), TraceId(2)], (await _store.QueryAsync(new TraceQuery { Status = TraceStatusFilter.Error })).Traces.Select(t => t.TraceId));
        Assert.Equal([TraceId(1)], (await _store.QueryAsync(new TraceQuery { Status = TraceStatusFilter.Ok })).Traces.Select(t => t.TraceId));
        var failed = (await _store.GetTraceAsync(TraceId(3)))!.Summary;
        Assert.Equal(1, failed.ErrorCount);
        Assert.True(failed.IsError);
    }

    [Fact]
    public async Task Duration_range_is_inclusive_at_both_ends()
    {
        await _store.AddAsync([Root(1, durationMs: 5), Root(2, durationMs: 50), Root(3, durationMs: 500)]);

        var page = await _store.QueryAsync(new TraceQuery { MinDuration = TimeSpan.FromMilliseconds(50), MaxDuration = TimeSpan.FromMilliseconds(500) });
        Assert.Equal([TraceId(3), TraceId(2)], page.Traces.Select(t => t.TraceId));
        page = await _store.QueryAsync(new TraceQuery { MaxDuration = TimeSpan.FromMilliseconds(49.9) });
        Assert.Equal([TraceId(1)], page.Traces.Select(t => t.TraceId));
    }

    [Fact]
    public async Task Time_range_selects_by_trace_start()
    {
        await _store.AddAsync([Root(10), Root(20), Root(30)]);

        var page = await _store.QueryAsync(new TraceQuery { From = T0.AddMilliseconds(15), To = T0.AddMilliseconds(30) });
        Assert.Equal([TraceId(30), TraceId(20)], page.Traces.Select(t => t.TraceId));
    }

    [Fact]
    public async Task Free_text_searches_span_names_attribute_values_status_messages_and_events()
    {
        await _store.AddAsync([
            Span(TraceId(1), SpanId(1)),
            Span(TraceId(1), SpanId(2), parent: SpanId(1), name: "charge card"),
            Span(TraceId(2), SpanId(3), attributes: [("order.id", "A-4711")]),
            Span(TraceId(3), SpanId(4), status: ActivityStatusCode.Error, statusMessage: "Deadlock victim"),
            Span(TraceId(4), SpanId(5), events: [new SpanEvent("Payment declined for customer 99", T0, [])]),
            Span(TraceId(5), SpanId(6), events: [new SpanEvent("log", T0, [KeyValuePair.Create("message", "cache MISS for key x")])]),
        ]);

        async Task<string[]> Search(string text) => (await _store.QueryAsync(new TraceQuery { Text = text })).Traces.Select(t => t.TraceId).ToArray();

        Assert.Equal([TraceId(1)], await Search("CHARGE"));
        Assert.Equal([TraceId(2)], await Search("a-4711"));
        Assert.Equal([TraceId(3)], await Search("deadlock"));
        Assert.Equal([TraceId(4)], await Search("declined"));
        Assert.Equal([TraceId(5)], await Search("cache miss"));
        Assert.Empty(await Search("nowhere to be found"));
    }

    [Fact]
    public async Task Cursor_paging_visits_every_matching_trace_exactly_once_in_order()
    {
        // Equal start times force the tie-break on trace id.
        var spans = Enumerable.Range(1, 23).Select(i => Span(TraceId(i), SpanId(i), startMs: i % 4)).ToArray();
        await _store.AddAsync(spans);

        var seen = new List<TraceSummary>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = await _store.QueryAsync(new TraceQuery { Limit = 5, Cursor = cursor });
            seen.AddRange(page.Traces);
            cursor = page.NextCursor;
            pages++;
        }
        while (cursor is not null);

        Assert.Equal(5, pages);
        Assert.Equal(23, seen.Select(t => t.TraceId).Distinct().Count());
        var expected = seen.OrderByDescending(t => t.StartTime).ThenByDescending(t => t.TraceId, StringComparer.Ordinal).Select(t => t.TraceId);
        Assert.Equal(expected, seen.Select(t => t.TraceId));
    }

    [Fact]
    public async Task Paging_still_applies_filters()
    {
        await _store.AddAsync(Enumerable.Range(1, 10).Select(i => Root(i, status: i % 2 == 0 ? ActivityStatusCode.Error : ActivityStatusCode.Unset)).ToArray());

        var first = await _store.QueryAsync(new TraceQuery { Status = TraceStatusFilter.Error, Limit = 3 });
        var second = await _store.QueryAsync(new TraceQuery { Status = TraceStatusFilter.Error, Limit = 3, Cursor = first.NextCursor });

        Assert.Equal([TraceId(10), TraceId(8), TraceId(6)], first.Traces.Select(t => t.TraceId));
        Assert.Equal([TraceId(4), TraceId(2)], second.Traces.Select(t => t.TraceId));
        Assert.Null(second.NextCursor);
    }

    [Fact]
    public async Task A_foreign_cursor_is_refused_with_a_message_that_says_what_to_pass()
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() => _store.QueryAsync(new TraceQuery { Cursor = "not-a-cursor" }).AsTask());
        Assert.Contains("nextCursor", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Changes_are_reported_once_per_trace_in_change_order_and_paged()
    {
        await _store.AddAsync([Root(1), Root(2)]);
        var start = _store.GetStats().Version;
        await _store.AddAsync([Root(3)]);
        await _store.AddAsync([Span(TraceId(1), SpanId(11), parent: SpanId(1))]);
        await _store.AddAsync([Span(TraceId(1), SpanId(12), parent: SpanId(1))]);
        await _store.AddAsync([Root(4)]);

        var all = await _store.GetChangesAsync(start, 100);
        Assert.Equal([TraceId(3), TraceId(1), TraceId(4)], all.Traces.Select(t => t.TraceId));
        Assert.Equal(3, all.Traces[1].SpanCount);
        Assert.False(all.HasMore);
        Assert.Equal(_store.GetStats().Version, all.Version);

        var firstPage = await _store.GetChangesAsync(start, 2);
        Assert.True(firstPage.HasMore);
        var rest = await _store.GetChangesAsync(firstPage.Version, 2);
        Assert.Equal([TraceId(4)], rest.Traces.Select(t => t.TraceId));
        Assert.Empty((await _store.GetChangesAsync(rest.Version, 2)).Traces);
    }

    [Fact]
    public async Task Changes_from_a_version_the_store_never_reached_start_over()
    {
        await _store.AddAsync([Root(1)]);
        var changes = await _store.GetChangesAsync(afterVersion: 10_000, maxCount: 10);
        Assert.Equal([TraceId(1)], changes.Traces.Select(t => t.TraceId));
    }

    [Fact]
    public async Task Concurrent_readers_and_a_writer_keep_counts_consistent()
    {
        var store = TestSpans.NewStore(maxTraces: 500, maxSpansPerTrace: 50);
        using var done = new CancellationTokenSource();
        var readers = Enumerable.Range(0, 3).Select(_ => Task.Run(async () =>
        {
            var reads = 0;
            while (!done.IsCancellationRequested || reads < 3)
            {
                var page = await store.QueryAsync(new TraceQuery { Limit = 20, Text = "x" });
                Assert.True(page.Traces.Count <= 20);
                reads++;
            }

            return reads;
        })).ToArray();

        for (var batch = 0; batch < 200; batch++)
        {
            await store.AddAsync(Enumerable.Range(0, 10).Select(i => Root(batch * 10 + i)).ToArray());
        }

        await done.CancelAsync();
        var counts = await Task.WhenAll(readers);
        var stats = store.GetStats();
        Assert.Equal(500, stats.StoredTraces);
        Assert.Equal(2_000, stats.StoredSpans + stats.EvictedSpans);
        Assert.All(counts, c => Assert.True(c > 0));
    }

    [Fact]
    public async Task Component_filter_matches_a_kind_or_a_component_name()
    {
        await _store.AddAsync([
            Span(TraceId(1), SpanId(1)),
            Span(TraceId(1), SpanId(2), parent: SpanId(1), name: "RateLimitingMiddleware", component: SpanComponents.Middleware),
            Span(TraceId(2), SpanId(3)),
            Span(TraceId(2), SpanId(4), parent: SpanId(3), name: "publish orders", component: SpanComponents.Queue),
        ]);

        Assert.Equal([TraceId(2)], (await _store.QueryAsync(new TraceQuery { Component = "queue" })).Traces.Select(t => t.TraceId));
        Assert.Equal([TraceId(1)], (await _store.QueryAsync(new TraceQuery { Component = "ratelimitingmiddleware" })).Traces.Select(t => t.TraceId));
        Assert.Empty((await _store.QueryAsync(new TraceQuery { Component = "GET /things" })).Traces); // the request itself is not a component name
    }

    [Fact]
    public async Task Attribute_filter_matches_key_and_optionally_value()
    {
        await _store.AddAsync([
            Span(TraceId(1), SpanId(1), attributes: [("tenant", "acme")]),
            Span(TraceId(2), SpanId(2), attributes: [("tenant", "globex")]),
            Root(3),
        ]);

        Assert.Equal([TraceId(1)], (await _store.QueryAsync(new TraceQuery { AttributeKey = "tenant", AttributeValue = "ACME" })).Traces.Select(t => t.TraceId));
        Assert.Equal([TraceId(2), TraceId(1)], (await _store.QueryAsync(new TraceQuery { AttributeKey = "tenant" })).Traces.Select(t => t.TraceId));
    }

    [Fact]
    public async Task Sorting_by_duration_pages_longest_first()
    {
        await _store.AddAsync([Root(1, durationMs: 30), Root(2, durationMs: 10), Root(3, durationMs: 50), Root(4, durationMs: 10), Root(5, durationMs: 40)]);

        var first = await _store.QueryAsync(new TraceQuery { Sort = TraceSort.Duration, Limit = 3 });
        var second = await _store.QueryAsync(new TraceQuery { Sort = TraceSort.Duration, Limit = 3, Cursor = first.NextCursor });

        Assert.Equal([TraceId(3), TraceId(5), TraceId(1)], first.Traces.Select(t => t.TraceId));
        Assert.Equal([TraceId(4), TraceId(2)], second.Traces.Select(t => t.TraceId));
        await Assert.ThrowsAsync<ArgumentException>(() => _store.QueryAsync(new TraceQuery { Cursor = first.NextCursor }).AsTask()); // a duration cursor under time order
    }

    [Fact]
    public async Task A_trace_keeps_every_span_it_was_given_in_order_however_many_arrive()
    {
        var store = TestSpans.NewStore(maxTraces: 10, maxSpansPerTrace: 100);
        var trace = TraceId(7);
        var spans = Enumerable.Range(1, 14).Select(i => Span(trace, SpanId(i), parent: i == 1 ? null : SpanId(1), name: "span " + i, startMs: i)).ToArray();
        foreach (var span in spans)
        {
            await store.AddAsync([span]);
        }

        var detail = await store.GetTraceAsync(trace);

        Assert.NotNull(detail);
        Assert.Equal(spans.Select(s => s.Name), detail.Spans.Select(s => s.Name));
        Assert.Equal(14, detail.Summary.SpanCount);
        Assert.Equal(T0.AddMilliseconds(1), detail.Summary.StartTime);
        Assert.Equal(TimeSpan.FromMilliseconds(23), detail.Summary.Duration);
    }

    [Fact]
    public async Task Summaries_touching_the_same_components_share_one_list_and_others_get_their_own()
    {
        var store = TestSpans.NewStore(maxTraces: 10, maxSpansPerTrace: 100);
        await store.AddAsync([
            Span(TraceId(1), SpanId(1)), Span(TraceId(1), SpanId(2), parent: SpanId(1), component: SpanComponents.Middleware),
            Span(TraceId(2), SpanId(3)), Span(TraceId(2), SpanId(4), parent: SpanId(3), component: SpanComponents.Middleware),
            Span(TraceId(3), SpanId(5)), Span(TraceId(3), SpanId(6), parent: SpanId(5), component: SpanComponents.Queue),
        ]);

        var page = await store.QueryAsync(new TraceQuery());
        var byId = page.Traces.ToDictionary(t => t.TraceId);

        Assert.Equal([SpanComponents.Server, SpanComponents.Middleware], byId[TraceId(1)].Components);
        Assert.Same(byId[TraceId(1)].Components, byId[TraceId(2)].Components);
        Assert.Equal([SpanComponents.Server, SpanComponents.Queue], byId[TraceId(3)].Components);
    }
}
