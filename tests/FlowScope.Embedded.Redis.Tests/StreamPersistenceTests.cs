using FlowScope.Embedded.Redis.Internal;
using FlowScope.Embedded.Redis.Tests.Infrastructure;
using FlowScope.Embedded.Storage;
using StackExchange.Redis;

namespace FlowScope.Embedded.Redis.Tests;

public class StreamPersistenceTests(RedisServer server) : IClassFixture<RedisServer>
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(20);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Spans_round_trip_through_the_stream_packed_into_entries(bool compress)
    {
        var prefix = RedisStack.NewPrefix();
        await using var stack = await RedisStack.StartAsync(server, prefix, "web-1", o =>
        {
            o.MaxSpansPerEntry = 100;
            o.Compress = compress;
        });
        var spans = TestSpans.Traces("web-1", 100, 3);

        await stack.Store.AddAsync(spans);
        await stack.FlushedAsync();

        using var redis = await RedisStack.ConnectAsync(server);
        var db = redis.GetDatabase();
        var entries = await db.StreamRangeAsync(prefix + ":spans");
        // The pump hands over one batch: 300 spans become 3 packed entries.
        Assert.Equal(3, entries.Length);
        var decoded = entries.Select(StreamEntryFormat.Decode).ToArray();
        Assert.All(decoded, e => Assert.Equal("web-1", e.Instance));
        Assert.Equal(3, decoded.Select(e => e.BatchId).Distinct().Count());
        Assert.Equal(spans.Select(s => s.SpanId), decoded.SelectMany(e => e.Batch.Decode()).Select(s => s.SpanId));
        Assert.Equal("100", entries[0][StreamEntryFormat.CountField].ToString());
        Assert.Equal(SpanBatch.FormatVersion.ToString(System.Globalization.CultureInfo.InvariantCulture), entries[0][StreamEntryFormat.VersionField].ToString());
        Assert.Equal(compress ? "deflate" : "none", entries[0][StreamEntryFormat.CompressionField].ToString());

        var stats = stack.Writer.GetStats();
        Assert.Equal(300, stats.Produced);
        Assert.Equal(300, stats.Persisted);
        Assert.Equal(3, stats.EntriesWritten);
        Assert.Equal(0, stats.Dropped);
    }

    [Fact]
    public async Task Retention_keeps_the_stream_near_MaxStreamEntries()
    {
        var prefix = RedisStack.NewPrefix();
        await using var stack = await RedisStack.StartAsync(server, prefix, "web-1", o =>
        {
            o.MaxStreamEntries = 50;
            o.MaxSpansPerEntry = 3;
            o.ReadSharedHistory = false;
            o.EnableConsumerGroup = false;
        });

        for (var i = 0; i < 100; i++)
        {
            await stack.Store.AddAsync(TestSpans.Traces("web-1", 10, 3));
        }

        await stack.FlushedAsync();
        Assert.Equal(3_000, stack.Writer.GetStats().Persisted);

        using var redis = await RedisStack.ConnectAsync(server);
        var length = await redis.GetDatabase().StreamLengthAsync(prefix + ":spans");
        // MAXLEN ~ trims whole radix-tree nodes (100 entries each by default), never below the limit.
        Assert.InRange(length, 50, 50 + 100);
    }

    [Fact]
    public async Task Retention_by_age_trims_older_entries_with_MINID()
    {
        var prefix = RedisStack.NewPrefix();
        using var redis = await RedisStack.ConnectAsync(server);
        var db = redis.GetDatabase();
        // An entry from an hour ago, written the way another instance would.
        var old = new PackedBatch("old-1", 1, TestSpans.EntryPayload(TestSpans.Trace("old", 1), compress: true), true, 0);
        var oldId = $"{DateTimeOffset.UtcNow.AddHours(-1).ToUnixTimeMilliseconds()}-0";
        await db.StreamAddAsync(prefix + ":spans", StreamEntryFormat.Create(old, "old"), oldId);

        await using var stack = await RedisStack.StartAsync(server, prefix, "web-1", o =>
        {
            o.Retention = TimeSpan.FromMinutes(5);
            o.ReadSharedHistory = false;
            o.EnableConsumerGroup = false;
        });
        await stack.Store.AddAsync(TestSpans.Trace("web-1"));
        await stack.FlushedAsync();

        await Eventually.WaitUntilAsync(async () => (await db.StreamRangeAsync(prefix + ":spans")).All(e => e.Id != oldId), s_timeout, "old entry trimmed");
        Assert.Single(await db.StreamRangeAsync(prefix + ":spans"));
    }

    [Fact]
    public async Task Two_instances_sharing_one_server_see_each_others_traces()
    {
        var prefix = RedisStack.NewPrefix();
        await using var a = await RedisStack.StartAsync(server, prefix, "web-a");
        await using var b = await RedisStack.StartAsync(server, prefix, "web-b");
        var fromA = TestSpans.Trace("web-a", 4);
        var fromB = TestSpans.Trace("web-b", 2);

        var woken = b.Signal.WaitAsync();
        await a.Store.AddAsync(fromA);
        await b.Store.AddAsync(fromB);

        await Eventually.WaitUntilAsync(async () => await a.Store.GetTraceAsync(fromB[0].TraceId) is not null, s_timeout, "A sees B's trace");
        await Eventually.WaitUntilAsync(async () => await b.Store.GetTraceAsync(fromA[0].TraceId) is not null, s_timeout, "B sees A's trace");

        var inB = await b.Store.GetTraceAsync(fromA[0].TraceId);
        Assert.Equal(4, inB!.Spans.Count);
        Assert.Equal("web-a", inB.Summary.Instance);
        Assert.All(inB.Spans, s => Assert.Equal("web-a", s.Instance));
        var page = await a.Store.QueryAsync(new TraceQuery());
        Assert.Equal(["web-a", "web-b"], page.Traces.Select(t => t.Instance).Order());
        Assert.Equal(2, page.Traces.Count);
        // Remote spans wake the live stream like local ones.
        Assert.True(woken.IsCompleted);
        // Each reader skipped its own entries instead of indexing them twice.
        await Eventually.WaitUntilAsync(() => a.Reader.GetStats().OwnEntriesSkipped == 1, s_timeout, "A skipped its own entry");
        Assert.Equal(2, (await a.Store.QueryAsync(new TraceQuery())).Traces.Count);
    }

    [Fact]
    public async Task A_restarted_instance_loads_the_retained_history()
    {
        var prefix = RedisStack.NewPrefix();
        var traces = Enumerable.Range(0, 20).Select(_ => TestSpans.Trace("web-1", 3)).ToArray();
        await using (var first = await RedisStack.StartAsync(server, prefix, "web-1"))
        {
            foreach (var trace in traces)
            {
                await first.Store.AddAsync(trace);
            }

            await first.FlushedAsync();
        }

        // Same instance name, new process run.
        await using var second = await RedisStack.StartAsync(server, prefix, "web-1");
        await Eventually.WaitUntilAsync(() => second.Reader.CaughtUp, s_timeout, "history loaded");

        var page = await second.Store.QueryAsync(new TraceQuery { Limit = 100 });
        Assert.Equal(traces.Select(t => t[0].TraceId).Order(), page.Traces.Select(t => t.TraceId).Order());
        Assert.All(page.Traces, t => Assert.Equal(3, t.SpanCount));
    }

    [Fact]
    public async Task At_start_only_the_newest_entries_are_loaded()
    {
        var prefix = RedisStack.NewPrefix();
        using var redis = await RedisStack.ConnectAsync(server);
        var db = redis.GetDatabase();
        var traceIds = new List<string>();
        for (var i = 0; i < 150; i++)
        {
            var spans = TestSpans.Trace("web-old", 2);
            traceIds.Add(spans[0].TraceId);
            var batch = new PackedBatch($"oldrun-{i}", spans.Length, TestSpans.EntryPayload(spans, compress: false), false, 0);
            await db.StreamAddAsync(prefix + ":spans", StreamEntryFormat.Create(batch, "web-old"));
        }

        await using var stack = await RedisStack.StartAsync(server, prefix, "web-new", o =>
        {
            o.MaxHistoryEntriesOnStart = 100;
            o.EnableConsumerGroup = false;
        });
        await Eventually.WaitUntilAsync(() => stack.Reader.CaughtUp, s_timeout, "history loaded");

        var page = await stack.Store.QueryAsync(new TraceQuery { Limit = 1000 });
        Assert.Equal(traceIds.Skip(50).Order(), page.Traces.Select(t => t.TraceId).Order());
        // The newest entry was indexed last: the live order matches the stream order.
        var changes = await stack.Store.GetChangesAsync(0, 1000);
        Assert.Equal(traceIds[^1], changes.Traces[^1].TraceId);

        // New entries after the load are read from the cursor.
        var late = TestSpans.Trace("web-old", 2);
        var lateBatch = new PackedBatch("oldrun-late", late.Length, TestSpans.EntryPayload(late, compress: false), false, 0);
        await db.StreamAddAsync(prefix + ":spans", StreamEntryFormat.Create(lateBatch, "web-old"));
        await Eventually.WaitUntilAsync(async () => await stack.Store.GetTraceAsync(late[0].TraceId) is not null, s_timeout, "late entry read");
        Assert.Equal(101, stack.Reader.GetStats().EntriesRead);
    }

    [Fact]
    public async Task A_batch_written_twice_never_duplicates_spans()
    {
        var prefix = RedisStack.NewPrefix();
        using var redis = await RedisStack.ConnectAsync(server);
        var db = redis.GetDatabase();
        var spans = TestSpans.Trace("web-x", 5);
        var batch = new PackedBatch("run9-1", spans.Length, TestSpans.EntryPayload(spans, compress: true), true, 0);
        // A write that timed out but was applied, then retried: two entries, one batch id.
        await db.StreamAddAsync(prefix + ":spans", StreamEntryFormat.Create(batch, "web-x"));
        await db.StreamAddAsync(prefix + ":spans", StreamEntryFormat.Create(batch, "web-x"));

        await using var reader = await RedisStack.StartAsync(server, prefix, "web-y");
        await Eventually.WaitUntilAsync(() => reader.Reader.CaughtUp && reader.Index.GetStats().Processed + reader.Index.GetStats().Duplicates == 2, s_timeout, "both entries read and indexed");

        var trace = await reader.Store.GetTraceAsync(spans[0].TraceId);
        Assert.Equal(5, trace!.Spans.Count);
        Assert.Equal(5, trace.Summary.SpanCount);
        Assert.Equal(5, trace.Spans.Select(s => s.SpanId).Distinct().Count());
        Assert.Equal(1, reader.Reader.GetStats().DuplicateBatches);
        // The shared index applied the batch once as well.
        Assert.Equal(1, reader.Index.GetStats().Processed);
        Assert.Equal(1, reader.Index.GetStats().Duplicates);
        var components = await db.HashGetAllAsync(reader.Layout[0].ComponentsKey);
        Assert.Equal(1, (long)components.Single(c => c.Name == "server|spans").Value);
        Assert.Equal(5, components.Where(c => c.Name.ToString().EndsWith("|spans", StringComparison.Ordinal)).Sum(c => (long)c.Value));
    }
}
