using System.Diagnostics;
using FlowScope.Embedded.Capture;
using FlowScope.Embedded.Faults;
using FlowScope.Embedded.Queues;
using FlowScope.Embedded.Storage;

namespace FlowScope.Embedded.Workers.Internal;

/// <summary>The <see cref="IWorkerScope{TWorker}"/> the container hands a worker; its state is the worker's registry entry.</summary>
internal sealed class WorkerScope<TWorker> : IWorkerScope<TWorker>
{
    private readonly WorkerState _state;
    private readonly FaultInjector? _faults;

    public WorkerScope(WorkerRegistry registry, FaultInjector? faults = null)
    {
        _state = registry.ForType(typeof(TWorker));
        _faults = faults is { Enabled: true } ? faults : null;
    }

    public string Name => _state.Name;

    public WorkerUnitOfWork StartUnitOfWork(string name, QueueTraceContext? cause) =>
        StartUnitOfWork(name, cause?.ActivityContext ?? default);

    public WorkerUnitOfWork StartUnitOfWork(string name, ActivityContext parent = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var unit = Start(_state, name, parent);
        if (_faults is { IsActive: true } && _faults.TryHit(FaultKind.Worker, _state.Name, _state.Type.FullName) is { } fault)
        {
            Inject(unit, fault, _faults.Time);
        }

        return unit;
    }

    /// <summary>
    /// An operator's injected delay (waited here: starting a unit of work is synchronous, so the worker's own thread
    /// waits, as it would in slow code) and failure (the unit ends failed and <see cref="InjectedFaultException"/> is
    /// thrown to the worker, as any failure of its work would be).
    /// </summary>
    private static void Inject(WorkerUnitOfWork unit, FaultHit fault, TimeProvider time)
    {
        fault.Mark(unit.Activity, time.GetUtcNow());
        if (fault.Delay > TimeSpan.Zero)
        {
            InjectedDelay.WaitAsync(fault.Delay, time, CancellationToken.None).GetAwaiter().GetResult();
        }

        if (fault.Fail)
        {
            var exception = fault.CreateException();
            unit.Fail(exception);
            unit.Dispose();
            throw exception;
        }
    }

    internal static WorkerUnitOfWork Start(WorkerState state, string name, ActivityContext parent)
    {
        var previous = Activity.Current;
        Activity? activity = null;
        try
        {
            state.BeginUnit();
            if (parent == default)
            {
                Activity.Current = null; // a unit of work without a cause is a trace of its own
            }

            activity = WorkerTracing.Source.StartActivity(name, ActivityKind.Internal, parent);
            if (activity is { IsAllDataRequested: true })
            {
                activity.SetTag(SpanConverter.ComponentAttribute, SpanComponents.Worker);
                activity.SetTag(WorkerTracing.NameAttribute, state.Name);
                activity.SetTag(WorkerTracing.TypeAttribute, state.Type.FullName);
            }
            else if (activity is null && parent == default)
            {
                Activity.Current = previous;
            }
        }
        catch (Exception ex)
        {
            InstrumentationFailures.RestoreCurrent(previous);
            InstrumentationFailures.Report("worker", ex);
        }

        return new WorkerUnitOfWork(state, activity, previous);
    }
}
