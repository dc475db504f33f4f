using System.Globalization;
using System.Text.Json;
using FlowScope.Embedded.Redis.Internal;
using FlowScope.Embedded.Redis.Sharding;
using FlowScope.Embedded.Redis.Tests.Infrastructure;
using FlowScope.Embedded.Storage;
using StackExchange.Redis;

namespace FlowScope.Embedded.Redis.Tests;

/// <summary>The shared history on a real three-master Redis Cluster, spread over three shards.</summary>
public class ClusterTests(RedisCluster cluster) : IClassFixture<RedisCluster>
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Slots_are_computed_as_the_cluster_computes_them()
    {
        string[] keys = ["flowscope:spans", "a", "{user1000}.following", "foo{}{bar}", "foo{{bar}}zap", "foo{bar}{zap}", "{0of3-0}x", "ключ", "flowscope:{2of3-17}:index:trace:abc"];
        foreach (var key in keys)
        {
            var slot = int.Parse(await cluster.NodeCommandAsync(0, "CLUSTER", "KEYSLOT", key), CultureInfo.InvariantCulture);
            Assert.True(slot == RedisHashSlot.Of(key), $"{key}: cluster {slot}, FlowScope {RedisHashSlot.Of(key)}");
        }
    }

    [Fact]
    public async Task Three_shards_put_their_keys_on_every_master_one_shard_each()
    {
        var prefix = RedisStack.NewPrefix();
        await using var stack = await RedisStack.StartAsync(cluster.ConnectionString, prefix, "web-a", o => o.Shards = 3);
        var layout = stack.Layout;
        var masters = new List<int>();
        foreach (var shard in layout.Shards)
        {
            // Every key of a shard hashes to the shard's slot (the index script needs them together).
            foreach (var key in new[] { shard.StreamKey, shard.TraceKey("t1"), shard.ComponentsKey, shard.TracesByStartKey, shard.DoneKey("run-1") })
            {
                Assert.Equal(shard.Slot, int.Parse(await cluster.NodeCommandAsync(0, "CLUSTER", "KEYSLOT", key), CultureInfo.InvariantCulture));
            }

            masters.Add(await cluster.MasterOfSlotAsync(shard.Slot));
        }

        Assert.Equal([0, 1, 2], masters);

        for (var i = 0; i < 60; i++)
        {
            await stack.Store.AddAsync(TestSpans.Trace("web-a", 3));
        }

        await stack.FlushedAsync();
        var entries = stack.Writer.GetStats().EntriesWritten;
        await Eventually.WaitUntilAsync(() => stack.Index.GetStats().Processed == entries, s_timeout, "every entry indexed");
        Assert.All(stack.Writer.Shards, s => Assert.True(s.GetStats().Persisted > 0, $"shard {s.Keys.Index} got no spans"));

        // On each master: only its shard's keys, and all kinds of them (stream, trace sets, listing, metrics, markers).
        for (var node = 0; node < RedisCluster.MasterCount; node++)
        {
            var held = (await cluster.NodeCommandAsync(node, "KEYS", prefix + ":*")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            var shard = layout[masters.IndexOf(node)];
            Assert.Contains(shard.StreamKey, held);
            Assert.Contains(shard.ComponentsKey, held);
            Assert.Contains(shard.TracesByStartKey, held);
            Assert.Contains(held, k => k.StartsWith(shard.IndexKeyPrefix + "trace:", StringComparison.Ordinal));
            Assert.Contains(held, k => k.StartsWith(shard.IndexKeyPrefix + "done:", StringComparison.Ordinal));
            Assert.All(held, k => Assert.StartsWith(prefix + ":{" + shard.Tag + "}:", k, StringComparison.Ordinal));
        }

        // Each trace lives in its shard only, and the shared index finds it there.
        using var redis = await RedisStack.ConnectAsync(cluster.ConnectionString);
        var db = redis.GetDatabase();
        foreach (var shard in layout.Shards)
        {
            foreach (var entry in await db.StreamRangeAsync(shard.StreamKey))
            {
                Assert.All(StreamEntryFormat.Decode(entry).Batch.Decode(), s => Assert.Equal(shard.Index, layout.For(s.TraceId).Index));
            }
        }

        Assert.Equal(180, await stack.CountDistinctSpansAsync(db));
    }

    [Fact]
    public async Task Two_instances_list_each_others_traces_and_a_trace_both_wrote_is_one_trace()
    {
        var prefix = RedisStack.NewPrefix();
        await using var a = await RedisStack.StartAsync(cluster.ConnectionString, prefix, "web-a", o => o.Shards = 3);
        await using var b = await RedisStack.StartAsync(cluster.ConnectionString, prefix, "web-b", o => o.Shards = 3);
        var fromA = Enumerable.Range(0, 12).Select(_ => TestSpans.Trace("web-a", 3)).ToArray();
        var fromB = Enumerable.Range(0, 12).Select(_ => TestSpans.Trace("web-b", 2)).ToArray();
        // A message crossing the instances: A's request publishes, B's consumer continues the same trace.
        var crossing = TestSpans.Trace("web-a", 2);
        var consumer = new SpanRecord(
            crossing[0].TraceId, TestSpans.NewSpanId(), crossing[0].SpanId, "process chat", System.Diagnostics.ActivityKind.Consumer, SpanComponents.Queue,
            crossing[0].StartTime.AddMilliseconds(3), TimeSpan.FromMilliseconds(4), System.Diagnostics.ActivityStatusCode.Ok, null, [], [], [], "FlowScope.Embedded.Queues", "web-b");
        foreach (var trace in fromA.Append(crossing))
        {
            await a.Store.AddAsync(trace);
        }

        foreach (var trace in fromB)
        {
            await b.Store.AddAsync(trace);
        }

        await b.Store.AddAsync([consumer]);

        foreach (var (stack, expected) in new[] { (a, 25), (b, 25) })
        {
            await Eventually.WaitUntilAsync(async () => (await stack.Store.QueryAsync(new TraceQuery { Limit = 100 })).Traces.Count == expected, s_timeout, "both instances' traces listed");
            var page = await stack.Store.QueryAsync(new TraceQuery { Limit = 100 });
            Assert.Equal(fromA.Select(t => t[0].TraceId).Append(crossing[0].TraceId).Order(), page.Traces.Where(t => t.Instance == "web-a").Select(t => t.TraceId).Order());
            Assert.Equal(fromB.Select(t => t[0].TraceId).Order(), page.Traces.Where(t => t.Instance == "web-b").Select(t => t.TraceId).Order());
            await Eventually.WaitUntilAsync(async () => (await stack.Store.GetTraceAsync(crossing[0].TraceId))?.Spans.Count == 3, s_timeout, "the crossing trace whole");
            var whole = await stack.Store.GetTraceAsync(crossing[0].TraceId);
            Assert.Equal(["web-a", "web-a", "web-b"], whole!.Spans.Select(s => s.Instance).Order());
            Assert.Equal(crossing[0].SpanId, whole.Spans.Single(s => s.Instance == "web-b").ParentSpanId);
        }

        // In Redis the crossing trace is in one shard, whichever instance wrote its spans.
        using var redis = await RedisStack.ConnectAsync(cluster.ConnectionString);
        var db = redis.GetDatabase();
        var holding = new List<int>();
        foreach (var shard in a.Layout.Shards)
        {
            var entries = await db.StreamRangeAsync(shard.StreamKey);
            var spans = entries.SelectMany(e => StreamEntryFormat.Decode(e).Batch.Decode()).Where(s => s.TraceId == crossing[0].TraceId).ToArray();
            if (spans.Length > 0)
            {
                holding.Add(shard.Index);
                Assert.Equal(["web-a", "web-a", "web-b"], spans.Select(s => s.Instance).Order());
            }
        }

        Assert.Equal([a.Layout.For(crossing[0].TraceId).Index], holding);
    }

    [Fact]
    public async Task A_restarted_instance_loads_every_shards_history_in_entry_order()
    {
        var prefix = RedisStack.NewPrefix();
        var traces = Enumerable.Range(0, 30).Select(_ => TestSpans.Trace("web-a", 2)).ToArray();
        await using (var first = await RedisStack.StartAsync(cluster.ConnectionString, prefix, "web-a", o => o.Shards = 3))
        {
            foreach (var trace in traces)
            {
                await first.Store.AddAsync(trace);
                await first.FlushedAsync();
            }
        }

        // A new process run of the same instance, and a limit that takes the newest 20 of 30 entries.
        await using var second = await RedisStack.StartAsync(cluster.ConnectionString, prefix, "web-a", o =>
        {
            o.Shards = 3;
            o.MaxHistoryEntriesOnStart = 20;
            o.EnableConsumerGroup = false;
        });
        await Eventually.WaitUntilAsync(() => second.Reader.CaughtUp, s_timeout, "history loaded");

        // Entry ids of every trace, across the shards: the newest 20 are loaded, indexed oldest first.
        using var redis = await RedisStack.ConnectAsync(cluster.ConnectionString);
        var db = redis.GetDatabase();
        var entryOf = new Dictionary<string, StreamId>();
        foreach (var shard in second.Layout.Shards)
        {
            foreach (var entry in await db.StreamRangeAsync(shard.StreamKey))
            {
                foreach (var span in StreamEntryFormat.Decode(entry).Batch.Decode())
                {
                    entryOf[span.TraceId] = StreamId.Parse(entry.Id.ToString());
                }
            }
        }

        var newest = entryOf.OrderBy(e => e.Value).Select(e => e.Key).TakeLast(20).ToArray();
        var changes = await second.Store.GetChangesAsync(0, 1000);
        Assert.Equal(newest.Order(), changes.Traces.Select(t => t.TraceId).Order());
        Assert.Equal(newest, changes.Traces.Select(t => t.TraceId));
        Assert.Equal(3, second.Layout.Shards.Count(s => newest.Any(t => second.Layout.For(t) == s)));
    }

    [Fact]
    public async Task A_dashboard_api_lists_the_other_instances_traces_and_continues_its_trace()
    {
        var prefix = RedisStack.NewPrefix();
        // Instance A writes without a web host; host B is a real app (one capturing host per process).
        await using var a = await RedisStack.StartAsync(cluster.ConnectionString, prefix, "web-a", o => o.Shards = 3);
        await using var b = await TestHost.StartAsync("host-b", cluster.ConnectionString, prefix, settings: new Dictionary<string, string?> { ["FlowScope:Redis:Shards"] = "3" });
        var fromA = Enumerable.Range(0, 6).Select(_ => TestSpans.Trace("web-a", 3)).ToArray();
        foreach (var trace in fromA)
        {
            await a.Store.AddAsync(trace);
        }

        // B's request continues A's first trace (a traceparent from A), as a call or a message between them would.
        var parent = fromA[0][0];
        using (var request = new HttpRequestMessage(HttpMethod.Get, "/hello/cluster"))
        {
            request.Headers.Add("traceparent", $"00-{parent.TraceId}-{parent.SpanId}-01");
            (await b.Client.SendAsync(request)).EnsureSuccessStatusCode();
        }

        List<string> listed = [];
        await Eventually.WaitUntilAsync(async () =>
        {
            using var json = JsonDocument.Parse(await b.Client.GetStringAsync("/_flowscope/api/traces?limit=100"));
            listed = [.. json.RootElement.GetProperty("traces").EnumerateArray().Where(t => t.GetProperty("instance").GetString() == "web-a").Select(t => t.GetProperty("traceId").GetString()!)];
            return listed.Count == fromA.Length;
        }, s_timeout, "B's dashboard lists A's traces");
        Assert.Equal(fromA.Select(t => t[0].TraceId).Order(), listed.Order());

        await Eventually.WaitUntilAsync(async () =>
        {
            using var json = JsonDocument.Parse(await b.Client.GetStringAsync($"/_flowscope/api/traces/{parent.TraceId}"));
            var instances = json.RootElement.GetProperty("spans").EnumerateArray().Select(s => s.GetProperty("instance").GetString()).ToList();
            return instances.Count(i => i == "web-a") == 3 && instances.Any(i => i == "host-b");
        }, s_timeout, "B's dashboard shows the trace with both instances' spans");
        await Eventually.WaitUntilAsync(async () => (await a.Store.GetTraceAsync(parent.TraceId))?.Spans.Any(s => s.Instance == "host-b") == true, s_timeout, "A sees B's part");
        var stats = b.Redis.Writer!.GetStats();
        Assert.Equal(stats.Produced, stats.Persisted + stats.Waiting + stats.Dropped);
        Assert.Equal(3, b.Redis.Layout!.Count);
    }
}
