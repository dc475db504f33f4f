using FlowScope.Embedded.Redis.Internal;
using FlowScope.Embedded.Redis.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace FlowScope.Embedded.Redis.Tests;

public class RetryBackoffTests
{
    private static readonly TimeSpan s_base = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan s_max = TimeSpan.FromSeconds(2);

    [Fact]
    public void Ceiling_doubles_per_failure_up_to_the_cap()
    {
        Assert.Equal(TimeSpan.FromMilliseconds(100), RetryBackoff.Ceiling(1, s_base, s_max));
        Assert.Equal(TimeSpan.FromMilliseconds(200), RetryBackoff.Ceiling(2, s_base, s_max));
        Assert.Equal(TimeSpan.FromMilliseconds(1600), RetryBackoff.Ceiling(5, s_base, s_max));
        Assert.Equal(s_max, RetryBackoff.Ceiling(6, s_base, s_max));
        Assert.Equal(s_max, RetryBackoff.Ceiling(10_000, s_base, s_max));
    }

    [Fact]
    public void Full_jitter_spreads_delays_over_zero_to_the_ceiling()
    {
        var random = new Random(42);
        var delays = Enumerable.Range(0, 2_000).Select(_ => RetryBackoff.Next(4, s_base, s_max, random)).ToArray();

        Assert.All(delays, d => Assert.InRange(d, TimeSpan.Zero, TimeSpan.FromMilliseconds(800)));
        Assert.Contains(delays, d => d < TimeSpan.FromMilliseconds(100));
        Assert.Contains(delays, d => d > TimeSpan.FromMilliseconds(700));
    }

    [Fact]
    public async Task Writer_waits_out_the_backoff_on_the_injected_clock()
    {
        // Nothing listens on this port: every write fails fast.
        var options = new RedisStreamsOptions
        {
            ConnectionString = $"127.0.0.1:{UnusedPort()}",
            ConnectTimeout = TimeSpan.FromMilliseconds(300),
            RetryBaseDelay = TimeSpan.FromSeconds(10),
            RetryMaxDelay = TimeSpan.FromMinutes(5),
        };
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var connection = new RedisConnection(Options.Create(options), NullLogger<RedisConnection>.Instance);
        await using var _ = connection;
        var writer = new RedisStreamWriter(options, connection, "a", "run", time, NullLogger.Instance, new MaxRandom());
        using var stop = new CancellationTokenSource();
        var loop = writer.RunAsync(stop.Token);

        writer.TryEnqueue(TestSpans.Trace("a", 4));
        await Eventually.WaitUntilAsync(() => writer.GetStats().FailedWrites == 1 && writer.NextAttemptTicks != 0, TimeSpan.FromSeconds(10), "first attempt failed");
        var firstRetryAt = writer.NextAttemptTicks;

        // The jittered delay is just under 10 s (the random source returns its maximum): no attempt before that.
        time.Advance(TimeSpan.FromSeconds(9));
        Assert.False(await Eventually.TryWaitUntilAsync(() => Task.FromResult(writer.GetStats().FailedWrites > 1), TimeSpan.FromMilliseconds(300)));

        time.Advance(TimeSpan.FromSeconds(1));
        await Eventually.WaitUntilAsync(() => writer.GetStats().FailedWrites == 2 && writer.NextAttemptTicks > firstRetryAt, TimeSpan.FromSeconds(10), "second attempt after the backoff");

        // Second failure: the ceiling doubled to 20 s.
        time.Advance(TimeSpan.FromSeconds(19));
        Assert.False(await Eventually.TryWaitUntilAsync(() => Task.FromResult(writer.GetStats().FailedWrites > 2), TimeSpan.FromMilliseconds(300)));
        time.Advance(TimeSpan.FromSeconds(1));
        await Eventually.WaitUntilAsync(() => writer.GetStats().FailedWrites == 3, TimeSpan.FromSeconds(10), "third attempt");

        var stats = writer.GetStats();
        Assert.Equal(4, stats.Retrying);
        Assert.Equal(stats.Produced, stats.Persisted + stats.Waiting + stats.Dropped);

        writer.Complete();
        await stop.CancelAsync();
        await loop;
        stats = writer.GetStats();
        Assert.Equal(4, stats.DroppedAtShutdown);
        Assert.Equal(0, stats.Waiting);
    }

    private static int UnusedPort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    private sealed class MaxRandom : Random
    {
        public override double NextDouble() => 0.9999;
    }
}
