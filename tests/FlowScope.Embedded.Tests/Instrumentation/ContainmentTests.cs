using System.Collections.Concurrent;
using System.Diagnostics;
using FlowScope.Embedded.Queues;
using FlowScope.Embedded.Steps;
using FlowScope.Embedded.Workers.Internal;
using Microsoft.Extensions.Logging;

namespace FlowScope.Embedded.Tests.Instrumentation;

[Collection(FlowScopeSourcesTests.Name)]
public sealed class ContainmentTests
{
    [Fact]
    public void A_failure_inside_the_instrumentation_never_reaches_the_caller_is_counted_and_logged_once_per_area()
    {
        var logger = new RecordingLogger();
        InstrumentationFailures.Attach(logger);
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name.StartsWith("FlowScope.", StringComparison.Ordinal),
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
            ActivityStarted = _ => throw new InvalidOperationException("a listener bug"),
        };
        ActivitySource.AddActivityListener(listener);
        var before = InstrumentationFailures.Count;
        using var caller = new Activity("caller").SetIdFormat(ActivityIdFormat.W3C).Start();

        using (var step = FlowScopeSteps.Start("decide"))
        {
            step.Observe("k", 1);
            step.Decide("d");
        }

        Assert.Same(caller, Activity.Current); // the half-started activity did not leak into the caller's flow
        using (var send = QueueTracing.StartSend("test", "q"))
        {
            Assert.Equal(caller.Id, send.Context.TraceParent); // the message still carries the caller's context
        }

        Assert.Same(caller, Activity.Current);
        using (QueueTracing.StartProcess("test", "q", null))
        {
        }

        Assert.Same(caller, Activity.Current);
        var registry = new WorkerRegistry(TimeProvider.System);
        using (new WorkerScope<ContainmentTests>(registry).StartUnitOfWork("work"))
        {
        }

        Assert.Same(caller, Activity.Current);
        Assert.Equal(1, registry.Snapshot().Single().Runs); // the worker still counts its run
        Assert.Equal(before + 4, InstrumentationFailures.Count);
        Assert.Equal(["queue", "step", "worker"], logger.Areas.Order());
        Assert.All(logger.EventIds, id => Assert.Equal(301, id));
    }

    private sealed class RecordingLogger : ILogger
    {
        public ConcurrentQueue<string> Areas { get; } = new();

        public ConcurrentQueue<int> EventIds { get; } = new();

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            EventIds.Enqueue(eventId.Id);
            if (state is IReadOnlyList<KeyValuePair<string, object?>> values)
            {
                Areas.Enqueue((string)values.Single(v => v.Key == "Area").Value!);
            }
        }
    }
}
