using Microsoft.Extensions.Logging;

namespace FlowScope.Embedded.Workers.Internal;

/// <summary>Log messages of the queue, worker and step instrumentation (event ids 300–399).</summary>
internal static partial class AsyncInstrumentationLog
{
    [LoggerMessage(301, LogLevel.Warning, "FlowScope's {Area} instrumentation failed; the app was not affected and the failure was counted. Further failures of this area are not logged.")]
    public static partial void InstrumentationFailed(ILogger logger, Exception exception, string area);

    [LoggerMessage(310, LogLevel.Warning, "Queue {Queue}: message {MessageId} failed on attempt {Attempt} of {MaxAttempts}; retrying in {DelayMs} ms.")]
    public static partial void RetryScheduled(ILogger logger, Exception exception, string queue, string messageId, int attempt, int maxAttempts, double delayMs);

    [LoggerMessage(311, LogLevel.Error, "Queue {Queue}: message {MessageId} failed on its last attempt ({Attempt}) and was dead-lettered.")]
    public static partial void DeadLettered(ILogger logger, Exception exception, string queue, string messageId, int attempt);

    [LoggerMessage(312, LogLevel.Warning, "Queue {Queue} is full (capacity {Capacity}); a message was refused. Further refusals are counted, not logged.")]
    public static partial void QueueFull(ILogger logger, string queue, int capacity);

    [LoggerMessage(313, LogLevel.Information, "Queue {Queue} stopped with {Remaining} message(s) not processed.")]
    public static partial void StoppedWithMessages(ILogger logger, string queue, int remaining);

    [LoggerMessage(320, LogLevel.Debug, "FlowScope observes {Count} hosted service(s) as workers.")]
    public static partial void WorkersObserved(ILogger logger, int count);
}
