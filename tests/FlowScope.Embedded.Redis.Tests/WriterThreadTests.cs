using FlowScope.Embedded.Redis.Internal;
using FlowScope.Embedded.Redis.Tests.Infrastructure;
using StackExchange.Redis;

namespace FlowScope.Embedded.Redis.Tests;

/// <summary>
/// The writer runs on threads of its own and waits for Redis synchronously: an app whose thread pool is saturated or
/// starved is exactly when its traces matter, and persisting them must not wait in the pool's queue.
/// </summary>
public class WriterThreadTests(RedisServer server) : IClassFixture<RedisServer>
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Spans_are_persisted_while_every_thread_pool_thread_is_blocked()
    {
        // StackExchange.Redis 3.x reads replies on the thread pool unless its process-wide DedicatedThreads flag is on
        // (then every connection has a reader and a writer thread of its own). With the client off the pool, nothing
        // the writer does may need the pool either: here the pool is blocked outright, not just busy.
        ConnectionMultiplexer.SetFeatureFlag("DedicatedThreads", true);
        RedisStack? stack = null;
        try
        {
            stack = await RedisStack.StartAsync(server, RedisStack.NewPrefix(), "web-1", o =>
            {
                o.ReadSharedHistory = false;
                o.EnableConsumerGroup = false;
            });
            // Connected and written once before the pool is blocked (connecting itself is asynchronous).
            await stack.Store.AddAsync(TestSpans.Trace("web-1", 2));
            await stack.FlushedAsync();

            ThreadPool.GetMaxThreads(out var maxWorkers, out var maxIo);
            ThreadPool.GetMinThreads(out var minWorkers, out _);
            // Never disposed: queued items still wait on it after the test.
            var release = new ManualResetEventSlim();
            long persistedWhileBlocked;
            try
            {
                Assert.True(ThreadPool.SetMaxThreads(minWorkers, maxIo));
                for (var i = 0; i < 256; i++)
                {
                    ThreadPool.UnsafeQueueUserWorkItem(_ => release.Wait(), null);
                }

                Assert.True(ThreadPool.PendingWorkItemCount > 0, "the thread pool is not starved");
                for (var i = 0; i < 50; i++)
                {
                    // Synchronously, as the pump calls it on its own thread: the stores FlowScope ships complete at once.
                    var add = stack.Store.AddAsync(TestSpans.Traces("web-1", 10)).AsTask();
                    Assert.True(add.IsCompletedSuccessfully);
                }

                // Not Eventually: its awaits would need the very pool that is blocked.
                SpinWait.SpinUntil(() => stack.Writer.GetStats().Persisted == 1_502, s_timeout);
                persistedWhileBlocked = stack.Writer.GetStats().Persisted;
                Assert.True(ThreadPool.PendingWorkItemCount > 0, "the thread pool was no longer starved when the spans were persisted");
            }
            finally
            {
                release.Set();
                ThreadPool.SetMaxThreads(maxWorkers, maxIo);
            }

            Assert.Equal(1_502, persistedWhileBlocked);
            using var redis = await RedisStack.ConnectAsync(server);
            Assert.Equal(1_502, await RedisStack.CountDistinctSpansAsync(redis.GetDatabase(), stack.Layout[0].StreamKey));
        }
        finally
        {
            if (stack is not null)
            {
                await stack.DisposeAsync();
            }

            ConnectionMultiplexer.SetFeatureFlag("DedicatedThreads", false);
        }
    }

    [Fact]
    public async Task Every_snapshot_accounts_for_every_span_while_spans_flow()
    {
        await using var stack = await RedisStack.StartAsync(server, RedisStack.NewPrefix(), "web-1", o =>
        {
            o.Shards = 3;
            o.MaxSpansPerEntry = 16;
            o.WriterQueueCapacity = 3_000; // small: some batches are refused while the writer catches up
            o.ReadSharedHistory = false;
            o.EnableConsumerGroup = false;
        });
        var batches = Enumerable.Range(0, 40).Select(_ => TestSpans.Traces("web-1", 40, 3)).ToArray();
        var snapshots = new List<RedisWriterStats>();
        using var done = new CancellationTokenSource();
        var observer = Task.Run(() =>
        {
            while (!done.IsCancellationRequested)
            {
                snapshots.Add(stack.Writer.GetStats());
            }
        });

        var producers = Enumerable.Range(0, 2).Select(p => Task.Run(() =>
        {
            for (var round = 0; round < 20; round++)
            {
                foreach (var batch in batches.Where((_, i) => i % 2 == p))
                {
                    stack.Writer.TryEnqueue(batch);
                }
            }
        })).ToArray();
        await Task.WhenAll(producers);
        await stack.FlushedAsync();
        await done.CancelAsync();
        await observer;

        Assert.True(snapshots.Count > 10, $"{snapshots.Count} snapshots");
        Assert.Contains(snapshots, s => s.Waiting > 0);
        Assert.All(snapshots, s => Assert.Equal(s.Produced, s.Persisted + s.Waiting + s.Dropped));
        var final = stack.Writer.GetStats();
        Assert.Equal(20 * 40 * 120, final.Produced);
        Assert.Equal(final.Produced, final.Persisted + final.DroppedQueueFull);
        using var redis = await RedisStack.ConnectAsync(server);
        var inRedis = 0;
        foreach (var shard in stack.Layout.Shards)
        {
            inRedis += await RedisStack.CountDistinctSpansAsync(redis.GetDatabase(), shard.StreamKey);
        }

        Assert.Equal(final.Persisted, inRedis);
    }

    [Fact]
    public async Task An_encoded_batch_is_written_to_its_shard_as_one_entry_as_it_is()
    {
        await using var stack = await RedisStack.StartAsync(server, RedisStack.NewPrefix(), "web-1", o =>
        {
            o.Shards = 3;
            o.EnableConsumerGroup = false;
        });
        var spans = TestSpans.Trace("web-other", 4);
        var shard = stack.Layout.For(spans[0].TraceId).Index;
        var payload = TestSpans.EntryPayload(spans, compress: false);

        Assert.True(stack.Writer.TryEnqueue(shard, new EncodedSpans(payload, spans.Length, Compressed: false)));
        await stack.FlushedAsync();

        using var redis = await RedisStack.ConnectAsync(server);
        var entries = await redis.GetDatabase().StreamRangeAsync(stack.Layout[shard].StreamKey);
        var entry = Assert.Single(entries);
        Assert.Equal(payload, (byte[])entry[StreamEntryFormat.PayloadField]!);
        Assert.Equal("4", entry[StreamEntryFormat.CountField].ToString());
        Assert.StartsWith(stack.Writer.RunId + "-", entry[StreamEntryFormat.BatchIdField].ToString(), StringComparison.Ordinal);
        Assert.Equal(4, stack.Writer.GetStats().Persisted);
        Assert.Throws<ArgumentOutOfRangeException>(() => { stack.Writer.TryEnqueue(3, new EncodedSpans(payload, 4, false)); });
    }
}
