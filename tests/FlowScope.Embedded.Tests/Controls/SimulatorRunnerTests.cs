using FlowScope.Embedded.Simulators;
using FlowScope.Embedded.Simulators.Internal;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace FlowScope.Embedded.Tests.Controls;

public sealed class SimulatorRunnerTests
{
    private readonly CountingTimeProvider _time = new();
    private int _runs;

    private SimulatorRunner Create(double rate, bool start)
    {
        var services = new ServiceCollection().BuildServiceProvider();
        var registration = new SimulatorRegistration("ticker", (_, _) =>
        {
            Interlocked.Increment(ref _runs);
            return Task.CompletedTask;
        });
        return new SimulatorRunner(registration, new SimulatorOptions { RatePerSecond = rate, StartOnStartup = start }, services.GetRequiredService<IServiceScopeFactory>(), _time, NullLogger.Instance);
    }

    private int Runs => Volatile.Read(ref _runs);

    [Fact]
    public async Task Runs_are_paced_by_the_rate_and_stop_when_told()
    {
        var runner = Create(rate: 1, start: true);
        using var stopping = new CancellationTokenSource();
        var loop = runner.RunAsync(stopping.Token);

        await Eventually.TrueAsync(() => Runs == 1, because: "the first run starts at once");
        Assert.Equal(_time.GetUtcNow(), runner.Snapshot().LastRunAt);
        await Eventually.TrueAsync(() => _time.Timers == 1, because: "the loop waits for the next run");
        Assert.Equal(1, Runs);

        _time.Advance(TimeSpan.FromSeconds(1));
        await Eventually.TrueAsync(() => Runs == 2, because: "one second later, the second run");

        runner.Set(running: false, rate: null);
        await Eventually.TrueAsync(() => runner.IsParked, because: "a stop cuts the wait short and parks the loop");
        _time.Advance(TimeSpan.FromMinutes(10));
        Assert.True(runner.IsParked);
        Assert.Equal(2, Runs);
        Assert.Equal(2, runner.Snapshot().Runs);
        Assert.False(runner.Snapshot().Running);

        runner.Set(running: true, rate: null);
        await Eventually.TrueAsync(() => Runs == 3, because: "starting again runs at once");

        await stopping.CancelAsync();
        var ended = await Record.ExceptionAsync(() => loop.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.True(ended is null or OperationCanceledException, $"the loop ends when the host stops: {ended}");
    }

    [Fact]
    public async Task A_new_rate_takes_effect_at_once_not_after_the_old_wait()
    {
        var runner = Create(rate: SimulatorOptions.MinRatePerSecond, start: true); // one run per 100 s
        using var stopping = new CancellationTokenSource();
        var loop = runner.RunAsync(stopping.Token);
        await Eventually.TrueAsync(() => Runs == 1 && _time.Timers == 1, because: "the first run, then a 100 s wait");

        runner.Set(running: null, rate: 10);
        await Eventually.TrueAsync(() => Runs == 2, because: "the change wakes the loop");
        await Eventually.TrueAsync(() => _time.Timers == 2, because: "then it waits 0.1 s");
        _time.Advance(TimeSpan.FromMilliseconds(100));
        await Eventually.TrueAsync(() => Runs == 3, because: "0.1 s later, the next run");
        Assert.Equal(10, runner.Snapshot().RatePerSecond);

        await stopping.CancelAsync();
        var ended = await Record.ExceptionAsync(() => loop.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.True(ended is null or OperationCanceledException, $"the loop ends when the host stops: {ended}");
    }

}

/// <summary>A fake clock that counts the timers armed on it, so a test advances it only once the loop waits.</summary>
internal sealed class CountingTimeProvider() : FakeTimeProvider(new DateTimeOffset(2026, 11, 22, 12, 0, 0, TimeSpan.Zero))
{
    private int _timers;

    public int Timers => Volatile.Read(ref _timers);

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        Interlocked.Increment(ref _timers);
        return base.CreateTimer(callback, state, dueTime, period);
    }
}
