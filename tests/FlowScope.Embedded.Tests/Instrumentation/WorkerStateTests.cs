using FlowScope.Embedded.Workers.Internal;
using Microsoft.Extensions.Time.Testing;

namespace FlowScope.Embedded.Tests.Instrumentation;

public sealed class WorkerStateTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 22, 10, 0, 0, TimeSpan.Zero));

    [Fact]
    public void A_worker_runs_while_a_unit_of_work_runs_and_is_idle_between_them()
    {
        var state = new WorkerState("Mailer", typeof(WorkerStateTests), _time);
        state.Starting();
        Assert.Equal("starting", state.Snapshot().State);

        _time.Advance(TimeSpan.FromSeconds(1));
        state.Started();
        var started = state.Snapshot();
        Assert.Equal("running", started.State);
        Assert.Equal(_time.GetUtcNow(), started.StartedAt);

        state.BeginUnit();
        state.BeginUnit();
        state.EndUnit(null);
        Assert.Equal("running", state.Snapshot().State); // one unit still runs
        Assert.Equal(1, state.Snapshot().InFlight);

        _time.Advance(TimeSpan.FromSeconds(2));
        state.EndUnit(new TimeoutException("SMTP timed out."));
        var idle = state.Snapshot();
        Assert.Equal("idle", idle.State);
        Assert.Equal(_time.GetUtcNow(), idle.StateChangedAt);
        Assert.Equal(2, idle.Runs);
        Assert.Equal(1, idle.Errors);
        Assert.Equal("System.TimeoutException: SMTP timed out.", idle.LastError);
    }

    [Fact]
    public void Faulted_is_final_and_stopping_the_host_does_not_hide_it()
    {
        var state = new WorkerState("Mailer", typeof(WorkerStateTests), _time);
        state.Starting();
        state.Started();

        state.Faulted(new InvalidOperationException("broken"));
        state.BeginUnit();
        state.EndUnit(null);
        state.Stopped();

        var snapshot = state.Snapshot();
        Assert.Equal("faulted", snapshot.State);
        Assert.Equal("System.InvalidOperationException: broken", snapshot.LastError);
        Assert.Equal(1, snapshot.Errors);
    }

    [Fact]
    public void Error_details_are_capped()
    {
        var state = new WorkerState("Mailer", typeof(WorkerStateTests), _time);
        state.Faulted(new InvalidOperationException(new string('x', 50_000)));
        Assert.Equal(WorkerState.MaxErrorDetailLength, state.Snapshot().LastErrorDetail!.Length);
    }

    [Fact]
    public void The_registry_names_workers_by_type_and_numbers_further_instances()
    {
        var registry = new WorkerRegistry(_time);
        var byScope = registry.ForType(typeof(Mailer));
        var first = registry.Track(new Mailer());
        var second = registry.Track(new Mailer());

        Assert.Same(byScope, first); // a scope created before host start joins the hosted service's entry
        Assert.Equal(["Mailer", "Mailer#2"], registry.Snapshot().Select(w => w.Name));
        Assert.Equal("Generic", WorkerRegistry.DisplayName(typeof(Generic<int>)));
        Assert.NotSame(first, second);
    }

    private sealed class Mailer;

    private sealed class Generic<T>;
}
