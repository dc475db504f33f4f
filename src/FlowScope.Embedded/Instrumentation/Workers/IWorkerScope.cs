using System.Diagnostics;
using FlowScope.Embedded.Queues;

namespace FlowScope.Embedded.Workers;

/// <summary>
/// Records units of work of one worker: each becomes a span (component <c>worker</c>) and moves the worker's state to
/// <c>running</c> while it lasts and <c>idle</c> after. Inject <see cref="IWorkerScope{TWorker}"/>.
/// </summary>
public interface IWorkerScope
{
    /// <summary>Gets the worker's name (its type name).</summary>
    string Name { get; }

    /// <summary>
    /// Starts a unit of work. With a <paramref name="parent"/>, the span joins that trace (for example the trace of the
    /// message that caused the work); without one it starts a trace of its own, whatever activity is current.
    /// Dispose the result when the work is done; call <see cref="WorkerUnitOfWork.Fail"/> first if it failed.
    /// </summary>
    /// <param name="name">The span name, for example <c>send digest</c>.</param>
    /// <param name="parent">The context to continue, or <see langword="default"/> for a new trace.</param>
    /// <returns>The unit of work in progress.</returns>
    /// <exception cref="Faults.InjectedFaultException">
    /// An operator injected a failure into this worker from the dashboard (only with
    /// <see cref="FlowScopeOptions.EnableFaultInjection"/>); the unit of work has already ended as failed.
    /// </exception>
    WorkerUnitOfWork StartUnitOfWork(string name, ActivityContext parent = default);

    /// <summary>Starts a unit of work in the trace of the message whose <paramref name="cause"/> context is given.</summary>
    /// <param name="name">The span name.</param>
    /// <param name="cause">The trace context the message carried; <see langword="null"/> starts a new trace.</param>
    /// <returns>The unit of work in progress.</returns>
    WorkerUnitOfWork StartUnitOfWork(string name, QueueTraceContext? cause);
}

/// <summary>The <see cref="IWorkerScope"/> of the worker <typeparamref name="TWorker"/>; inject it into the worker.</summary>
/// <typeparam name="TWorker">The worker type; it names the worker and matches its hosted service.</typeparam>
#pragma warning disable CA1040 // a typed marker, as ILogger<T>: the type argument selects the worker
public interface IWorkerScope<TWorker> : IWorkerScope
#pragma warning restore CA1040
{
}
