using System.Diagnostics;
using FlowScope.Embedded.Instrumentation;
using FlowScope.Embedded.Workers.Internal;

namespace FlowScope.Embedded.Workers;

/// <summary>
/// A unit of work in progress, from <see cref="IWorkerScope.StartUnitOfWork(string, ActivityContext)"/>. Disposing it
/// ends the span, counts the run and restores the activity that was current before. Never throws from its own
/// instrumentation.
/// </summary>
public sealed class WorkerUnitOfWork : IDisposable
{
    private readonly WorkerState _worker;
    private readonly Activity? _activity;
    private readonly Activity? _previous;
    private Exception? _error;
    private int _disposed;

    internal WorkerUnitOfWork(WorkerState worker, Activity? activity, Activity? previous)
    {
        _worker = worker;
        _activity = activity;
        _previous = previous;
    }

    /// <summary>Gets the unit of work's span, or <see langword="null"/> when no listener records it.</summary>
    public Activity? Activity => _activity;

    /// <summary>Records that the work failed: error status, an <c>exception</c> event, and an error on the worker.</summary>
    /// <param name="exception">What went wrong.</param>
    public void Fail(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        _error = exception;
        InstrumentationFailures.MarkFailed(_activity, exception, "worker");
    }

    /// <summary>Ends the unit of work.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            _worker.EndUnit(_error);
        }
        catch (Exception ex)
        {
            InstrumentationFailures.Report("worker", ex);
        }

        OwnSpans.End(_activity, _previous, WorkerTracing.OutcomeAttribute, _error is null ? "ok" : "error", "worker");
    }
}
