using System.Diagnostics;
using FlowScope.Embedded.Capture;
using FlowScope.Embedded.Queues;
using FlowScope.Embedded.Storage;

namespace FlowScope.Embedded.Workers.Internal;

/// <summary>The <see cref="IWorkerScope{TWorker}"/> the container hands a worker; its state is the worker's registry entry.</summary>
internal sealed class WorkerScope<TWorker> : IWorkerScope<TWorker>
{
    private readonly WorkerState _state;

    public WorkerScope(WorkerRegistry registry)
    {
        _state = registry.ForType(typeof(TWorker));
    }

    public string Name => _state.Name;

    public WorkerUnitOfWork StartUnitOfWork(string name, QueueTraceContext? cause) =>
        StartUnitOfWork(name, cause?.ActivityContext ?? default);

    public WorkerUnitOfWork StartUnitOfWork(string name, ActivityContext parent = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return Start(_state, name, parent);
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
