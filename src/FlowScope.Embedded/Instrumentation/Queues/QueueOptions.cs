namespace FlowScope.Embedded.Queues;

/// <summary>
/// Options of one in-process queue, bound from <c>FlowScope:Queues:{name}</c> and then from the delegate passed to
/// <c>AddQueue</c>. Validated when the host starts.
/// </summary>
public sealed class QueueOptions
{
    /// <summary>The default value of <see cref="Capacity"/>: 1 000 messages.</summary>
    public const int DefaultCapacity = 1_000;

    /// <summary>The default value of <see cref="MaxAttempts"/>: 5 attempts.</summary>
    public const int DefaultMaxAttempts = 5;

    /// <summary>The default value of <see cref="HandlerConcurrency"/>: 1 handler at a time.</summary>
    public const int DefaultHandlerConcurrency = 1;

    /// <summary>The default value of <see cref="DeadLetterCapacity"/>: 100 messages.</summary>
    public const int DefaultDeadLetterCapacity = 100;

    /// <summary>The default value of <see cref="BackoffBase"/>: 200 milliseconds.</summary>
    public static readonly TimeSpan DefaultBackoffBase = TimeSpan.FromMilliseconds(200);

    /// <summary>The default value of <see cref="BackoffMax"/>: 30 seconds.</summary>
    public static readonly TimeSpan DefaultBackoffMax = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets how many messages may wait in the queue (retries waiting for their delay are not counted).</summary>
    /// <value>The default value is <see cref="DefaultCapacity"/>.</value>
    public int Capacity { get; set; } = DefaultCapacity;

    /// <summary>
    /// Gets or sets what enqueueing does when the queue is full. <c>TryEnqueue</c> always returns
    /// <see langword="false"/> on a full queue; this option decides what <c>EnqueueAsync</c> does.
    /// </summary>
    /// <value>The default value is <see cref="QueueFullMode.Wait"/>.</value>
    public QueueFullMode FullMode { get; set; } = QueueFullMode.Wait;

    /// <summary>Gets or sets how many times a message is handled before it is dead-lettered (1 = no retry).</summary>
    /// <value>The default value is <see cref="DefaultMaxAttempts"/>.</value>
    public int MaxAttempts { get; set; } = DefaultMaxAttempts;

    /// <summary>
    /// Gets or sets the base of the exponential backoff between attempts. The delay before attempt <c>n + 1</c> is a
    /// random duration between zero and <c>min(BackoffMax, BackoffBase × 2^(n-1))</c> ("full jitter").
    /// </summary>
    /// <value>The default value is <see cref="DefaultBackoffBase"/>.</value>
    public TimeSpan BackoffBase { get; set; } = DefaultBackoffBase;

    /// <summary>Gets or sets the longest delay between attempts.</summary>
    /// <value>The default value is <see cref="DefaultBackoffMax"/>.</value>
    public TimeSpan BackoffMax { get; set; } = DefaultBackoffMax;

    /// <summary>Gets or sets how many messages are handled at the same time.</summary>
    /// <value>The default value is <see cref="DefaultHandlerConcurrency"/>.</value>
    public int HandlerConcurrency { get; set; } = DefaultHandlerConcurrency;

    /// <summary>Gets or sets how many dead-lettered messages the queue keeps; the oldest is dropped first.</summary>
    /// <value>The default value is <see cref="DefaultDeadLetterCapacity"/>.</value>
    public int DeadLetterCapacity { get; set; } = DefaultDeadLetterCapacity;
}
