namespace FlowScope.Embedded.Queues.Internal;

/// <summary>Attribute names: OpenTelemetry's <c>messaging.*</c> semantic conventions plus FlowScope's queue attributes.</summary>
internal static class MessagingAttributes
{
    public const string System = "messaging.system";
    public const string DestinationName = "messaging.destination.name";
    public const string OperationType = "messaging.operation.type";
    public const string OperationName = "messaging.operation.name";
    public const string MessageId = "messaging.message.id";
    public const string BatchMessageCount = "messaging.batch.message_count";

    public const string WaitMs = "flowscope.queue.wait_ms";
    public const string Attempt = "flowscope.queue.attempt";
    public const string Outcome = "flowscope.queue.outcome";

    public const string Send = "send";
    public const string Process = "process";

    /// <summary>The <c>messaging.system</c> of FlowScope's in-process queues.</summary>
    public const string InProcessSystem = "in_process";

    public static string ToAttribute(this QueueOutcome outcome) => outcome switch
    {
        QueueOutcome.Ok => "ok",
        QueueOutcome.RetryScheduled => "retry_scheduled",
        QueueOutcome.DeadLettered => "dead_lettered",
        QueueOutcome.Failed => "failed",
        QueueOutcome.Abandoned => "abandoned",
        _ => "unknown",
    };
}
