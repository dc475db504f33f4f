namespace FlowScope.Embedded.Queues;

/// <summary>A message that failed its last attempt, kept by its queue (see <see cref="IQueue{TMessage}.GetDeadLetters"/>).</summary>
/// <typeparam name="TMessage">The message type.</typeparam>
public sealed class QueueDeadLetter<TMessage>
{
    internal QueueDeadLetter(TMessage message, string messageId, int attempts, DateTimeOffset enqueuedAt, DateTimeOffset deadLetteredAt, Exception error, QueueTraceContext traceContext)
    {
        Message = message;
        MessageId = messageId;
        Attempts = attempts;
        EnqueuedAt = enqueuedAt;
        DeadLetteredAt = deadLetteredAt;
        Error = error;
        TraceContext = traceContext;
    }

    /// <summary>Gets the message.</summary>
    public TMessage Message { get; }

    /// <summary>Gets the message's id (<c>messaging.message.id</c>).</summary>
    public string MessageId { get; }

    /// <summary>Gets how many attempts were made.</summary>
    public int Attempts { get; }

    /// <summary>Gets when the message was first enqueued.</summary>
    public DateTimeOffset EnqueuedAt { get; }

    /// <summary>Gets when the message was dead-lettered.</summary>
    public DateTimeOffset DeadLetteredAt { get; }

    /// <summary>Gets the exception of the last attempt.</summary>
    public Exception Error { get; }

    /// <summary>Gets the trace context the message carried (its trace holds every attempt).</summary>
    public QueueTraceContext TraceContext { get; }
}
