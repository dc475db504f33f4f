namespace FlowScope.Embedded.Queues;

/// <summary>Delivery details of a message, handed to <see cref="IQueueHandler{TMessage}"/>.</summary>
public sealed class QueueMessageContext
{
    internal QueueMessageContext(string queueName, string messageId, int attempt, int maxAttempts, DateTimeOffset enqueuedAt, QueueTraceContext traceContext)
    {
        QueueName = queueName;
        MessageId = messageId;
        Attempt = attempt;
        MaxAttempts = maxAttempts;
        EnqueuedAt = enqueuedAt;
        TraceContext = traceContext;
    }

    /// <summary>Gets the queue's name.</summary>
    public string QueueName { get; }

    /// <summary>Gets the message's id, the same for every attempt.</summary>
    public string MessageId { get; }

    /// <summary>Gets this attempt's number, starting at 1.</summary>
    public int Attempt { get; }

    /// <summary>Gets how many attempts the message gets before it is dead-lettered.</summary>
    public int MaxAttempts { get; }

    /// <summary>Gets when the message was first enqueued.</summary>
    public DateTimeOffset EnqueuedAt { get; }

    /// <summary>Gets the trace context the message carried from its producer (to start related work in its trace).</summary>
    public QueueTraceContext TraceContext { get; }
}
