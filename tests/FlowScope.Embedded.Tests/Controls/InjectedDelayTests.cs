using FlowScope.Embedded.Faults;
using Microsoft.Extensions.Time.Testing;

namespace FlowScope.Embedded.Tests.Controls;

/// <summary>
/// An injected delay is shown on the span it marks: a "150 ms" delay must never measure less than 150 ms, although
/// timers fire on a millisecond tick and can end early by the stopwatch that times the span.
/// </summary>
public sealed class InjectedDelayTests
{
    [Fact]
    public async Task An_injected_delay_lasts_at_least_its_length_even_when_timers_fire_early()
    {
        var fake = new FakeTimeProvider();
        var time = new EarlyTimers(fake, TimeSpan.FromMilliseconds(0.6));
        var start = fake.GetTimestamp();
        var wait = InjectedDelay.WaitAsync(TimeSpan.FromMilliseconds(150), time, CancellationToken.None);

        // Fake time moves in 0.1-ms steps. After a timer fires, the wait either ends or starts its next timer (its
        // continuation may run on the thread pool): wait for one of the two before moving on.
        var step = TimeSpan.FromTicks(TimeSpan.TicksPerMillisecond / 10);
        while (!wait.IsCompleted && fake.GetElapsedTime(start) < TimeSpan.FromMilliseconds(200))
        {
            var fired = time.Fired;
            fake.Advance(step);
            if (time.Fired > fired)
            {
                await Eventually.TrueAsync(() => wait.IsCompleted || time.Created > time.Fired, because: "the wait ends or waits again");
            }

            if (fake.GetElapsedTime(start) < TimeSpan.FromMilliseconds(150))
            {
                Assert.False(wait.IsCompleted, $"ended after {fake.GetElapsedTime(start).TotalMilliseconds} ms");
            }
        }

        Assert.True(wait.IsCompletedSuccessfully);
        Assert.InRange(fake.GetElapsedTime(start).TotalMilliseconds, 150, 152);
        Assert.True(time.Created >= 2, "the early first timer was followed by another");
    }

    [Fact]
    public async Task Cancelling_ends_the_wait()
    {
        using var cancel = new CancellationTokenSource();
        var wait = InjectedDelay.WaitAsync(TimeSpan.FromMinutes(5), new FakeTimeProvider(), cancel.Token);
        Assert.False(wait.IsCompleted);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => wait);
    }

    /// <summary>A clock whose timers fire <paramref name="early"/> before their due time, as the system's may.</summary>
    private sealed class EarlyTimers(FakeTimeProvider inner, TimeSpan early) : TimeProvider
    {
        private int _created;
        private int _fired;

        public int Created => Volatile.Read(ref _created);

        public int Fired => Volatile.Read(ref _fired);

        public override long TimestampFrequency => inner.TimestampFrequency;

        public override long GetTimestamp() => inner.GetTimestamp();

        public override DateTimeOffset GetUtcNow() => inner.GetUtcNow();

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            Interlocked.Increment(ref _created);
            return inner.CreateTimer(
                s =>
                {
                    Interlocked.Increment(ref _fired);
                    callback(s);
                },
                state,
                dueTime > early ? dueTime - early : TimeSpan.Zero,
                period);
        }
    }
}
