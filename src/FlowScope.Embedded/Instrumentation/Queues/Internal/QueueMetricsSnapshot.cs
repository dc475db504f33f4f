namespace FlowScope.Embedded.Queues.Internal;

/// <summary>One queue's live metrics at one moment, for the dashboard's queue cards (<c>GET api/metrics</c>).</summary>
/// <param name="Name">The queue's name.</param>
/// <param name="MessageType">The message type's name.</param>
/// <param name="Depth">Messages waiting in the queue now.</param>
/// <param name="Capacity">How many messages the queue holds at most.</param>
/// <param name="Enqueued">Messages accepted since start (retries not included).</param>
/// <param name="Dequeued">Attempts started since start (a retried message counts once per attempt).</param>
/// <param name="EnqueueRatePerSecond">Messages accepted per second over the last <see cref="QueueMetrics.RateWindowSeconds"/> seconds.</param>
/// <param name="DequeueRatePerSecond">Attempts started per second over the same window.</param>
/// <param name="InFlight">Handlers running now.</param>
/// <param name="Succeeded">Messages handled successfully.</param>
/// <param name="Retries">Failed attempts followed by a retry.</param>
/// <param name="DeadLettered">Messages dead-lettered after their last attempt.</param>
/// <param name="Rejected">Enqueues refused because the queue was full or stopped.</param>
/// <param name="PendingRetries">Messages waiting for their backoff delay before the next attempt.</param>
/// <param name="WaitP50Ms">Median queue wait (enqueue or retry → dequeue) over the recent attempts, in milliseconds.</param>
/// <param name="WaitP95Ms">95th percentile of the same, in milliseconds.</param>
/// <param name="DeadLetters">The most recent dead letters, newest first.</param>
internal sealed record QueueMetricsSnapshot(
    string Name,
    string MessageType,
    int Depth,
    int Capacity,
    long Enqueued,
    long Dequeued,
    double EnqueueRatePerSecond,
    double DequeueRatePerSecond,
    int InFlight,
    long Succeeded,
    long Retries,
    long DeadLettered,
    long Rejected,
    int PendingRetries,
    double WaitP50Ms,
    double WaitP95Ms,
    IReadOnlyList<DeadLetterSnapshot> DeadLetters);

/// <summary>A dead-lettered message as the dashboard shows it (its content is not exposed).</summary>
/// <param name="MessageId">The message's id.</param>
/// <param name="TraceId">The trace the message belongs to, when it had one.</param>
/// <param name="Attempts">How many attempts were made.</param>
/// <param name="EnqueuedAt">When the message was first enqueued.</param>
/// <param name="DeadLetteredAt">When it was dead-lettered.</param>
/// <param name="ErrorType">The last exception's type.</param>
/// <param name="Error">The last exception's message.</param>
internal sealed record DeadLetterSnapshot(
    string MessageId,
    string? TraceId,
    int Attempts,
    DateTimeOffset EnqueuedAt,
    DateTimeOffset DeadLetteredAt,
    string ErrorType,
    string Error);
