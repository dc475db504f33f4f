namespace FlowScope.Embedded.Queues;

/// <summary>What became of a message after one processing attempt; recorded as <c>flowscope.queue.outcome</c>.</summary>
public enum QueueOutcome
{
    /// <summary>The handler succeeded: <c>ok</c>.</summary>
    Ok,

    /// <summary>The handler failed and the message will be tried again: <c>retry_scheduled</c>.</summary>
    RetryScheduled,

    /// <summary>The handler failed for the last time and the message was set aside: <c>dead_lettered</c>.</summary>
    DeadLettered,

    /// <summary>The handler failed and the message is neither retried nor dead-lettered: <c>failed</c>.</summary>
    Failed,

    /// <summary>Processing stopped before the handler finished (for example at shutdown): <c>abandoned</c>.</summary>
    Abandoned,
}
