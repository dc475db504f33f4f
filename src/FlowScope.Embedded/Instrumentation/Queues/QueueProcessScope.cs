using System.Diagnostics;
using FlowScope.Embedded.Instrumentation;
using FlowScope.Embedded.Queues.Internal;
using FlowScope.Embedded.Workers.Internal;

namespace FlowScope.Embedded.Queues;

/// <summary>
/// A consumer span in progress, returned by <see cref="QueueTracing.StartProcess"/>. Record the outcome with
/// <see cref="Complete"/> or <see cref="Fail"/>, then dispose it; an outcome not set is recorded as <c>ok</c>.
/// Disposing restores the activity that was current when the scope started. Never throws from its own
/// instrumentation.
/// </summary>
public sealed class QueueProcessScope : IDisposable
{
    private readonly Activity? _activity;
    private readonly Activity? _previous;
    private QueueOutcome _outcome = QueueOutcome.Ok;
    private bool _disposed;

    internal QueueProcessScope(Activity? activity, Activity? previous, int attempt, TimeSpan? waitTime)
    {
        _activity = activity;
        _previous = previous;
        Attempt = attempt;
        WaitTime = waitTime;
    }

    /// <summary>Gets the delivery attempt this span records, starting at 1.</summary>
    public int Attempt { get; }

    /// <summary>Gets how long the message waited in the queue, when known.</summary>
    public TimeSpan? WaitTime { get; }

    /// <summary>Gets the consumer span, or <see langword="null"/> when no listener records it.</summary>
    public Activity? Activity => _activity;

    /// <summary>Gets the outcome recorded so far.</summary>
    public QueueOutcome Outcome => _outcome;

    /// <summary>Records a successful attempt (outcome <c>ok</c>).</summary>
    public void Complete() => _outcome = QueueOutcome.Ok;

    /// <summary>Records a failed attempt: error status, an <c>exception</c> event and the given outcome.</summary>
    /// <param name="exception">The handler's exception.</param>
    /// <param name="outcome">What happens to the message next, for example <see cref="QueueOutcome.RetryScheduled"/>.</param>
    public void Fail(Exception exception, QueueOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(exception);
        _outcome = outcome;
        RecordFailure(_activity, exception);
    }

    /// <summary>Records the outcome and ends the consumer span.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        OwnSpans.End(_activity, _previous, MessagingAttributes.Outcome, _outcome.ToAttribute(), "queue");
    }

    internal static void RecordFailure(Activity? activity, Exception exception) =>
        InstrumentationFailures.MarkFailed(activity, exception, "queue");
}
