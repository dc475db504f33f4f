using FlowScope.Embedded.Metrics;
using FlowScope.Embedded.Queues.Internal;
using Microsoft.Extensions.Time.Testing;

namespace FlowScope.Embedded.Tests.Instrumentation;

public sealed class QueueMathTests
{
    [Theory]
    [InlineData(1, 100)]
    [InlineData(2, 200)]
    [InlineData(3, 400)]
    [InlineData(6, 3_200)]
    [InlineData(7, 5_000)] // capped by the maximum
    [InlineData(500, 5_000)]
    public void Backoff_ceilings_grow_exponentially_up_to_the_maximum_and_jitter_spans_all_of_it(int failedAttempt, double ceilingMs)
    {
        var baseDelay = TimeSpan.FromMilliseconds(100);
        var max = TimeSpan.FromSeconds(5);

        Assert.Equal(TimeSpan.Zero, Backoff.Compute(failedAttempt, baseDelay, max, 0));
        Assert.Equal(ceilingMs / 2, Backoff.Compute(failedAttempt, baseDelay, max, 0.5).TotalMilliseconds, 3);
        Assert.Equal(ceilingMs, Backoff.Compute(failedAttempt, baseDelay, max, 1).TotalMilliseconds, 3);
    }

    [Fact]
    public void Rates_are_per_second_over_the_window_and_old_events_leave_it()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 22, 10, 0, 0, TimeSpan.Zero));
        var rate = new RateWindow();
        double PerSecond() => rate.Over(time.GetUtcNow(), 10).PerSecond;

        for (var i = 0; i < 20; i++)
        {
            rate.Add(time.GetUtcNow(), error: false);
        }

        time.Advance(TimeSpan.FromSeconds(4));
        for (var i = 0; i < 10; i++)
        {
            rate.Add(time.GetUtcNow(), error: i < 3);
        }

        Assert.Equal(3.0, PerSecond());
        Assert.Equal(3, rate.Over(time.GetUtcNow(), 10).Errors);
        time.Advance(TimeSpan.FromSeconds(6)); // the first 20 are now 10 s old: out of the window
        Assert.Equal(1.0, PerSecond());
        time.Advance(TimeSpan.FromSeconds(60)); // a bucket reused after wrapping around is reset
        rate.Add(time.GetUtcNow(), error: false);
        Assert.Equal(0.1, PerSecond());
    }

    [Fact]
    public void Percentiles_use_the_most_recent_samples_by_nearest_rank()
    {
        var samples = new DurationReservoir(100);
        Assert.Equal([0, 0], samples.Percentiles(50, 95));

        for (var i = 1; i <= 100; i++)
        {
            samples.Add(i);
        }

        Assert.Equal([50, 95], samples.Percentiles(50, 95));

        for (var i = 0; i < 100; i++)
        {
            samples.Add(1_000); // the ring forgets the older samples
        }

        Assert.Equal([1_000, 1_000], samples.Percentiles(50, 95));
    }
}
