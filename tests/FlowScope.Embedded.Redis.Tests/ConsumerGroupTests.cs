using FlowScope.Embedded.Redis.Internal;
using FlowScope.Embedded.Redis.Tests.Infrastructure;
using FlowScope.Embedded.Storage;
using StackExchange.Redis;

namespace FlowScope.Embedded.Redis.Tests;

public class ConsumerGroupTests(RedisServer server) : IClassFixture<RedisServer>
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task A_consumer_killed_mid_batch_has_its_entries_reclaimed_by_another()
    {
        var prefix = RedisStack.NewPrefix();
        using var redis = await RedisStack.ConnectAsync(server);
        var db = redis.GetDatabase();
        var key = prefix + ":spans";
        var traces = await WriteEntriesAsync(db, key, 6);
        await db.StreamCreateConsumerGroupAsync(key, RedisStreamsOptions.DefaultConsumerGroupName, "0");
        // The crashed consumer: it took 6 entries and died before processing or acknowledging any.
        var taken = await db.StreamReadGroupAsync(key, RedisStreamsOptions.DefaultConsumerGroupName, "web-crashed", ">", 6);
        Assert.Equal(6, taken.Length);

        await using var survivor = await RedisStack.StartAsync(server, prefix, "web-ok", o =>
        {
            o.ReadSharedHistory = false;
            o.ClaimMinIdleTime = TimeSpan.FromMilliseconds(300);
            o.ClaimInterval = TimeSpan.FromMilliseconds(100);
        });

        await Eventually.WaitUntilAsync(() => survivor.Index.GetStats().Reclaimed == 6, s_timeout, "six entries reclaimed");
        var pending = await db.StreamPendingAsync(key, RedisStreamsOptions.DefaultConsumerGroupName);
        Assert.Equal(0, pending.PendingMessageCount);
        Assert.Equal(6, survivor.Index.GetStats().Processed);
        foreach (var (traceId, entryId) in traces)
        {
            var members = await db.SetMembersAsync(survivor.Layout.For(traceId).TraceKey(traceId));
            Assert.Equal([entryId], members.Select(m => m.ToString()));
        }

        Assert.Equal(6, await db.SortedSetLengthAsync(survivor.Layout[0].TracesByStartKey));
        var components = await db.HashGetAllAsync(survivor.Layout[0].ComponentsKey);
        Assert.Equal(6, (long)components.Single(c => c.Name == "server|spans").Value);
        Assert.Equal(12, (long)components.Single(c => c.Name == "middleware|spans").Value + (long)components.Single(c => c.Name == "endpoint|spans").Value);
    }

    [Fact]
    public async Task Entries_trimmed_while_pending_are_acknowledged_and_counted()
    {
        var prefix = RedisStack.NewPrefix();
        using var redis = await RedisStack.ConnectAsync(server);
        var db = redis.GetDatabase();
        var key = prefix + ":spans";
        await WriteEntriesAsync(db, key, 4);
        await db.StreamCreateConsumerGroupAsync(key, RedisStreamsOptions.DefaultConsumerGroupName, "0");
        Assert.Equal(4, (await db.StreamReadGroupAsync(key, RedisStreamsOptions.DefaultConsumerGroupName, "web-crashed", ">", 4)).Length);
        // Retention trims them before anyone processed them.
        await db.StreamTrimAsync(key, 0);

        await using var survivor = await RedisStack.StartAsync(server, prefix, "web-ok", o =>
        {
            o.ReadSharedHistory = false;
            o.ClaimMinIdleTime = TimeSpan.FromMilliseconds(200);
            o.ClaimInterval = TimeSpan.FromMilliseconds(100);
        });

        await Eventually.WaitUntilAsync(() => survivor.Index.GetStats().DeletedWhilePending == 4, s_timeout, "four trimmed entries seen");
        Assert.Equal(0, (await db.StreamPendingAsync(key, RedisStreamsOptions.DefaultConsumerGroupName)).PendingMessageCount);
        Assert.Equal(0, survivor.Index.GetStats().Reclaimed);
        Assert.Equal(0, survivor.Index.GetStats().Processed);
    }

    [Fact]
    public async Task Two_consumers_index_every_entry_exactly_once()
    {
        var prefix = RedisStack.NewPrefix();
        await using var a = await RedisStack.StartAsync(server, prefix, "web-a", o => o.ReadSharedHistory = false);
        await using var b = await RedisStack.StartAsync(server, prefix, "web-b", o => o.ReadSharedHistory = false);

        for (var i = 0; i < 40; i++)
        {
            await (i % 2 == 0 ? a : b).Store.AddAsync(TestSpans.Trace(i % 2 == 0 ? "web-a" : "web-b", 3));
        }

        await a.FlushedAsync();
        await b.FlushedAsync();
        // Spans queued together are packed together: count entries as the writers wrote them.
        var entries = a.Writer.GetStats().EntriesWritten + b.Writer.GetStats().EntriesWritten;
        await Eventually.WaitUntilAsync(() => a.Index.GetStats().Processed + b.Index.GetStats().Processed == entries, s_timeout, "every entry indexed");
        using var redis = await RedisStack.ConnectAsync(server);
        var db = redis.GetDatabase();
        Assert.Equal(0, (await db.StreamPendingAsync(prefix + ":spans", RedisStreamsOptions.DefaultConsumerGroupName)).PendingMessageCount);
        Assert.Equal(40, await db.SortedSetLengthAsync(a.Layout[0].TracesByStartKey));
        Assert.Equal(40, (long)await db.HashGetAsync(a.Layout[0].ComponentsKey, "server|spans"));
    }

    [Fact]
    public async Task A_trace_no_longer_in_the_local_index_is_rebuilt_from_the_shared_index()
    {
        var prefix = RedisStack.NewPrefix();
        await using var writer = await RedisStack.StartAsync(server, prefix, "web-a", o => o.EnableConsumerGroup = false);
        var late = TestSpans.Trace("web-a", 2);
        var trace = TestSpans.Trace("web-a", 3, traceId: late[0].TraceId);
        await writer.Store.AddAsync(trace);
        await writer.Store.AddAsync(TestSpans.Trace("web-a", 4));
        await writer.Store.AddAsync(late.Skip(1).ToArray());
        await writer.FlushedAsync();

        // Reads only the shared index, never the stream: its local index is empty.
        await using var lookup = await RedisStack.StartAsync(server, prefix, "web-b", o => o.ReadSharedHistory = false);
        var entries = writer.Writer.GetStats().EntriesWritten;
        await Eventually.WaitUntilAsync(() => lookup.Index.GetStats().Processed == entries, s_timeout, "every entry indexed");
        Assert.Empty((await lookup.Store.QueryAsync(new TraceQuery())).Traces);

        var detail = await lookup.Store.GetTraceAsync(trace[0].TraceId);
        Assert.NotNull(detail);
        Assert.Equal(4, detail.Spans.Count);
        Assert.Equal(trace.Select(s => s.SpanId).Append(late[1].SpanId).Order(), detail.Spans.Select(s => s.SpanId).Order());
        Assert.Null(await lookup.Store.GetTraceAsync(TestSpans.NewTraceId()));
    }

    [Fact]
    public async Task Undecodable_entries_are_skipped_counted_and_acknowledged()
    {
        var prefix = RedisStack.NewPrefix();
        using var redis = await RedisStack.ConnectAsync(server);
        var db = redis.GetDatabase();
        var key = prefix + ":spans";
        await db.StreamAddAsync(key, [new("v", "99"), new("b", "future-1"), new("d", "?")]);
        await db.StreamAddAsync(key, [new("v", "1"), new("b", "broken-1"), new("c", "none"), new("d", new byte[] { 9, 9, 9 })]);
        var good = await WriteEntriesAsync(db, key, 1);

        await using var stack = await RedisStack.StartAsync(server, prefix, "web-ok");
        await Eventually.WaitUntilAsync(() => stack.Reader.CaughtUp && stack.Index.GetStats().Processed == 1, s_timeout, "good entry indexed");

        Assert.Equal(2, stack.Reader.GetStats().BadEntries);
        Assert.Equal(2, stack.Index.GetStats().BadEntries);
        Assert.NotNull(await stack.Store.GetTraceAsync(good[0].TraceId));
        Assert.Equal(0, (await db.StreamPendingAsync(key, RedisStreamsOptions.DefaultConsumerGroupName)).PendingMessageCount);
    }

    /// <summary>Writes one entry per trace, as another instance would; returns trace id → entry id.</summary>
    private static async Task<List<(string TraceId, string EntryId)>> WriteEntriesAsync(IDatabase db, string key, int count)
    {
        var written = new List<(string, string)>();
        for (var i = 0; i < count; i++)
        {
            var spans = TestSpans.Trace("web-crashed", 3);
            var batch = new PackedBatch($"crashedrun-{i}", spans.Length, TestSpans.EntryPayload(spans, compress: true), true, 0);
            var id = await db.StreamAddAsync(key, StreamEntryFormat.Create(batch, "web-crashed"));
            written.Add((spans[0].TraceId, id.ToString()));
        }

        return written;
    }
}
