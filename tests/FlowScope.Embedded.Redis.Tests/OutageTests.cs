using System.Diagnostics;
using FlowScope.Embedded.Redis.Internal;
using FlowScope.Embedded.Redis.Tests.Infrastructure;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace FlowScope.Embedded.Redis.Tests;

/// <summary>redis-server is killed under load (its own server: the others must not see the crash).</summary>
public class OutageTests(RedisServer server) : IClassFixture<RedisServer>
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Killed_server_never_blocks_the_caller_and_the_writer_resumes_without_loss()
    {
        var prefix = RedisStack.NewPrefix();
        await using var stack = await RedisStack.StartAsync(server, prefix, "web-1", o =>
        {
            o.MaxSpansPerEntry = 50;
            o.ReadSharedHistory = false;
            o.EnableConsumerGroup = false;
        });

        await stack.Store.AddAsync(TestSpans.Traces("web-1", 100));
        await stack.FlushedAsync();
        var persistedBeforeCrash = stack.Writer.GetStats().Persisted;
        Assert.Equal(300, persistedBeforeCrash);

        server.Kill();
        var slowest = TimeSpan.Zero;
        for (var i = 0; i < 200; i++)
        {
            var started = Stopwatch.GetTimestamp();
            await stack.Store.AddAsync(TestSpans.Traces("web-1", 5));
            var elapsed = Stopwatch.GetElapsedTime(started);
            slowest = elapsed > slowest ? elapsed : slowest;
        }

        // AddAsync never waits for Redis: it only appends to the local index and the writer's queue.
        Assert.True(slowest < TimeSpan.FromMilliseconds(100), $"slowest AddAsync took {slowest.TotalMilliseconds} ms");
        await Eventually.WaitUntilAsync(() => stack.Writer.GetStats().FailedWrites > 0, s_timeout, "writes fail while Redis is down");
        var during = stack.Writer.GetStats();
        Assert.Equal(3_300, during.Produced);
        Assert.Equal(during.Produced, during.Persisted + during.Waiting + during.Dropped);

        await server.StartAsync();
        await stack.FlushedAsync(s_timeout);

        var after = stack.Writer.GetStats();
        Assert.Equal(3_300, after.Produced);
        Assert.Equal(3_300, after.Persisted);
        Assert.Equal(0, after.Dropped);
        Assert.Equal(0, after.Retrying);
        // The crash lost the server's data (no persistence); everything produced since is in the new server, once.
        using var redis = await RedisStack.ConnectAsync(server);
        Assert.Equal(3_000, await RedisStack.CountDistinctSpansAsync(redis.GetDatabase(), prefix + ":spans"));
    }

    [Fact]
    public async Task Losses_happen_only_beyond_the_retry_budget_and_are_counted_exactly()
    {
        var prefix = RedisStack.NewPrefix();
        await using var stack = await RedisStack.StartAsync(server, prefix, "web-1", o =>
        {
            o.MaxSpansPerEntry = 30;
            o.RetryBufferCapacity = 300;
            o.ReadSharedHistory = false;
            o.EnableConsumerGroup = false;
        });

        await stack.Store.AddAsync(TestSpans.Traces("web-1", 10));
        await stack.FlushedAsync();

        server.Kill();
        // 100 batches of 30 spans while Redis is down; the retry buffer keeps the newest 300.
        for (var i = 0; i < 100; i++)
        {
            await stack.Store.AddAsync(TestSpans.Traces("web-1", 10));
        }

        await Eventually.WaitUntilAsync(() => stack.Writer.GetStats() is { Waiting: 300, Retrying: 300 }, s_timeout, "retry buffer full");
        var health = await new RedisStreamsHealthCheck(stack.Runtime).CheckHealthAsync(new HealthCheckContext());
        Assert.Equal(HealthStatus.Unhealthy, health.Status);
        Assert.Equal(1.0, health.Data["retryBufferFill"]);
        var during = stack.Writer.GetStats();
        Assert.Equal(3_030, during.Produced);
        Assert.Equal(30, during.Persisted);
        Assert.Equal(2_700, during.Dropped);
        Assert.Equal(2_700, during.DroppedRetryOverflow);

        await server.StartAsync();
        await stack.FlushedAsync(s_timeout);

        var after = stack.Writer.GetStats();
        Assert.Equal(3_030, after.Produced);
        Assert.Equal(330, after.Persisted);
        Assert.Equal(2_700, after.Dropped);
        Assert.Equal(after.Produced, after.Persisted + after.Waiting + after.Dropped);
        using var redis = await RedisStack.ConnectAsync(server);
        Assert.Equal(300, await RedisStack.CountDistinctSpansAsync(redis.GetDatabase(), prefix + ":spans"));
        // The local index kept everything: only persistence lost spans.
        Assert.Equal(3_030, stack.Store.GetStats().StoredSpans);
    }

    [Fact]
    public async Task A_full_writer_queue_drops_and_counts_instead_of_waiting()
    {
        var prefix = RedisStack.NewPrefix();
        // Not started: nothing drains the writer's queue.
        await using var stack = await RedisStack.StartAsync(server, prefix, "web-1", o => o.WriterQueueCapacity = 100, start: false);

        await stack.Store.AddAsync(TestSpans.Traces("web-1", 20, 3));
        await stack.Store.AddAsync(TestSpans.Traces("web-1", 20, 3));

        var stats = stack.Writer.GetStats();
        Assert.Equal(120, stats.Produced);
        Assert.Equal(60, stats.Waiting);
        Assert.Equal(60, stats.DroppedQueueFull);
        Assert.Equal(60, stats.Dropped);
        // The spans are still in this instance's dashboard.
        Assert.Equal(120, stack.Store.GetStats().StoredSpans);
    }
}
