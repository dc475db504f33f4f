using System.Diagnostics;
using FlowScope.Embedded.Workers.Internal;

namespace FlowScope.Embedded.Queues;

/// <summary>
/// A producer span in progress, returned by <see cref="QueueTracing.StartSend"/>. Put <see cref="Context"/> into the
/// message, then dispose the scope. Never throws from its own instrumentation.
/// </summary>
public sealed class QueueSendScope : IDisposable
{
    private readonly Activity? _activity;

    internal QueueSendScope(Activity? activity, QueueTraceContext context)
    {
        _activity = activity;
        Context = context;
    }

    /// <summary>Gets the trace context to carry in the message (the producer span's, or the current activity's when nobody records).</summary>
    public QueueTraceContext Context { get; }

    /// <summary>Gets the producer span, or <see langword="null"/> when no listener records it.</summary>
    public Activity? Activity => _activity;

    /// <summary>Marks the send as failed: error status and an <c>exception</c> event.</summary>
    /// <param name="exception">Why the message could not be sent.</param>
    public void Fail(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        QueueProcessScope.RecordFailure(_activity, exception);
    }

    /// <summary>Ends the producer span.</summary>
    public void Dispose()
    {
        try
        {
            _activity?.Dispose();
        }
        catch (Exception ex)
        {
            InstrumentationFailures.Report("queue", ex);
        }
    }
}
