using System.Diagnostics;
using FlowScope.Embedded.Storage;
using static FlowScope.Embedded.Tests.TestSpans;

namespace FlowScope.Embedded.Tests;

/// <summary>
/// Under heavy traffic the store keeps what matters within its cap: every error while errors fit their share, slow
/// outliers, a sample of every route (a rare one is never crowded out by a hot one), and the newest traces.
/// </summary>
public sealed class RetentionTests
{
    private const int SegmentSize = 64 * 1024;
    private const long Capacity = 32L * SegmentSize;

    [Fact]
    public async Task Errors_slow_outliers_and_rare_routes_survive_a_flood_of_ordinary_traffic()
    {
        var store = new InMemoryTraceStore(Capacity, 1_000, 0, SegmentSize);
        var errors = new List<string>();
        var slow = new List<string>();
        var rare = new List<string>();
        const int Traces = 60_000;
        for (var batch = 0; batch < Traces / 1_000; batch++)
        {
            var spans = new List<SpanRecord>(1_000);
            for (var t = batch * 1_000; t < (batch + 1) * 1_000; t++)
            {
                var id = TraceId(t);
                if (t % 100 == 7)
                {
                    errors.Add(id);
                    spans.Add(Span(id, SpanId(t + 1), name: "GET /orders/{id}", startMs: t, status: ActivityStatusCode.Error, statusMessage: "boom"));
                }
                else if (t % 200 == 13)
                {
                    slow.Add(id);
                    spans.Add(Span(id, SpanId(t + 1), name: "GET /orders/{id}", startMs: t, durationMs: 900));
                }
                else if (t % 5_000 == 21)
                {
                    rare.Add(id);
                    spans.Add(Span(id, SpanId(t + 1), name: "POST /admin/rebuild-index", startMs: t));
                }
                else
                {
                    spans.Add(Span(id, SpanId(t + 1), name: t % 2 == 0 ? "GET /orders/{id}" : "GET /health", startMs: t, durationMs: 5 + (t % 7)));
                }
            }

            await store.AddAsync(spans);
            Assert.True(store.GetStats().MemoryBytes <= Capacity);
        }

        var stats = store.GetStats();
        Assert.True(stats.EvictedTraces > Traces / 2, $"the store evicted {stats.EvictedTraces} traces: the flood was far beyond it");

        // Every error is still there (their share holds them all), and most slow outliers.
        foreach (var id in errors)
        {
            var trace = await store.GetTraceAsync(id);
            Assert.True(trace is not null, $"error trace {id} was evicted");
        }

        var slowKept = 0;
        foreach (var id in slow)
        {
            slowKept += await store.GetTraceAsync(id) is null ? 0 : 1;
        }

        Assert.True(slowKept >= slow.Count * 0.95, $"{slowKept} of {slow.Count} slow traces kept");

        // The rare route keeps its traces though the hot ones sent thousands more.
        Assert.NotEmpty((await store.QueryAsync(new TraceQuery { Name = "rebuild-index" })).Traces);
        var routes = store.GetRouteStats();
        Assert.All(routes, r => Assert.True(r.Kept > 0, $"{r.Route} keeps nothing"));
        var admin = Assert.Single(routes, r => r.Route == "POST /admin/rebuild-index");
        Assert.Equal(rare.Count, admin.Seen);

        // Why each is kept, and a filter for it.
        var keptErrors = await store.QueryAsync(new TraceQuery { KeptBecause = TraceRetention.Error, Limit = TraceQuery.MaxLimit });
        Assert.All(keptErrors.Traces, t => Assert.True(t.IsError));
        Assert.Contains(keptErrors.Traces, t => t.TraceId == errors[0]);
        Assert.Equal(TraceRetention.Slow, (await store.GetTraceAsync(slow[0]))!.Summary.KeptBecause);
        var newest = (await store.QueryAsync(new TraceQuery { Limit = 1 })).Traces[0];
        Assert.Equal(TraceRetention.Recent, newest.KeptBecause);
        var orders = Assert.Single(routes, r => r.Route == "GET /orders/{id}");
        Assert.True(orders.KeptForError > 0 && orders.KeptAsSlow > 0 && orders.KeptAsSample > 0, orders.ToString());
        Assert.Equal(Traces, routes.Sum(r => r.Seen));
    }

    [Fact]
    public async Task When_errors_outgrow_their_share_the_oldest_leave_first()
    {
        var retention = new RetentionOptions { ErrorShare = 0.1, SlowShare = 0, SampleShare = 0 };
        var store = new InMemoryTraceStore(Capacity, 1_000, 0, SegmentSize, retention);
        const int Traces = 40_000;
        for (var batch = 0; batch < Traces / 1_000; batch++)
        {
            await store.AddAsync([.. Enumerable.Range(batch * 1_000, 1_000).Select(t =>
                Span(TraceId(t), SpanId(t + 1), name: "GET /x", startMs: t, status: t % 10 == 0 ? ActivityStatusCode.Error : ActivityStatusCode.Unset))]);
        }

        Assert.True(store.GetStats().MemoryBytes <= Capacity);
        Assert.Null(await store.GetTraceAsync(TraceId(0)));
        Assert.NotNull(await store.GetTraceAsync(TraceId(Traces - 10_000)));
        var kept = await store.QueryAsync(new TraceQuery { KeptBecause = TraceRetention.Error, Sort = TraceSort.Time, Limit = TraceQuery.MaxLimit });
        Assert.NotEmpty(kept.Traces);
    }

    [Fact]
    public void Retention_options_are_validated_at_start()
    {
        var options = new FlowScopeOptions();
        options.Retention.ErrorShare = 0.5;
        options.Retention.SlowShare = 0.3;
        var result = new FlowScope.Embedded.Internal.FlowScopeOptionsValidator().Validate(null, options);
        Assert.True(result.Failed);
        Assert.Contains("FlowScope:Retention", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void A_route_s_running_p99_finds_rare_outliers_and_not_the_slowest_of_a_tight_spread()
    {
        var durations = new Storage.Memory.DurationHistogram();
        var random = new Random(3);
        var outliers = 0;
        var flagged = 0;
        var ordinaryFlagged = 0;
        for (var i = 0; i < 50_000; i++)
        {
            var slow = i % 200 == 1;
            var ticks = slow ? TimeSpan.FromMilliseconds(50).Ticks : TimeSpan.FromMilliseconds(1 + (random.NextDouble() * 9)).Ticks;
            if (i > 1_000)
            {
                outliers += slow ? 1 : 0;
                var isOutlier = durations.IsOutlier(ticks);
                flagged += slow && isOutlier ? 1 : 0;
                ordinaryFlagged += !slow && isOutlier ? 1 : 0;
            }

            durations.Add(ticks);
        }

        Assert.Equal(outliers, flagged);
        Assert.Equal(0, ordinaryFlagged);
    }
}
