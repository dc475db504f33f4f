namespace FlowScope.Embedded.Redis.Internal;

/// <summary>
/// The writer's span accounting. In every snapshot <c>Produced == Persisted + Waiting + Dropped</c>: every span handed
/// to the writer is persisted, still waiting (queued or in the retry buffer) or dropped, and counted as one of them.
/// </summary>
internal sealed record RedisWriterStats
{
    /// <summary>Gets the spans handed to the writer.</summary>
    public long Produced { get; init; }

    /// <summary>Gets the spans acknowledged by Redis.</summary>
    public long Persisted { get; init; }

    /// <summary>Gets the spans not yet persisted: queued, being written or waiting in the retry buffer.</summary>
    public long Waiting { get; init; }

    /// <summary>Gets the spans of <see cref="Waiting"/> whose write failed at least once (the retry buffer's fill).</summary>
    public long Retrying { get; init; }

    /// <summary>Gets the spans given up: queue full, retry buffer overflow or host stopping.</summary>
    public long Dropped { get; init; }

    /// <summary>Gets the spans refused because the writer queue was full (or the writer had already stopped).</summary>
    public long DroppedQueueFull { get; init; }

    /// <summary>Gets the spans evicted from a full retry buffer.</summary>
    public long DroppedRetryOverflow { get; init; }

    /// <summary>Gets the spans still waiting when the host stopped.</summary>
    public long DroppedAtShutdown { get; init; }

    /// <summary>Gets the stream entries written.</summary>
    public long EntriesWritten { get; init; }

    /// <summary>Gets the failed write attempts.</summary>
    public long FailedWrites { get; init; }

    /// <summary>Gets the consecutive failed attempts of the current outage (0 when writes succeed).</summary>
    public int ConsecutiveFailures { get; init; }

    /// <summary>Gets how long the oldest waiting span has waited.</summary>
    public TimeSpan Lag { get; init; }

    /// <summary>Gets the retry buffer's capacity in spans.</summary>
    public int RetryBufferCapacity { get; init; }

    /// <summary>Adds the shards' accounting up: counts are summed, the lag and the current outage are the worst shard's.</summary>
    public static RedisWriterStats Sum(IEnumerable<RedisWriterStats> shards)
    {
        var sum = new RedisWriterStats();
        foreach (var s in shards)
        {
            sum = new RedisWriterStats
            {
                Produced = sum.Produced + s.Produced,
                Persisted = sum.Persisted + s.Persisted,
                Waiting = sum.Waiting + s.Waiting,
                Retrying = sum.Retrying + s.Retrying,
                Dropped = sum.Dropped + s.Dropped,
                DroppedQueueFull = sum.DroppedQueueFull + s.DroppedQueueFull,
                DroppedRetryOverflow = sum.DroppedRetryOverflow + s.DroppedRetryOverflow,
                DroppedAtShutdown = sum.DroppedAtShutdown + s.DroppedAtShutdown,
                EntriesWritten = sum.EntriesWritten + s.EntriesWritten,
                FailedWrites = sum.FailedWrites + s.FailedWrites,
                ConsecutiveFailures = Math.Max(sum.ConsecutiveFailures, s.ConsecutiveFailures),
                Lag = s.Lag > sum.Lag ? s.Lag : sum.Lag,
                RetryBufferCapacity = sum.RetryBufferCapacity + s.RetryBufferCapacity,
            };
        }

        return sum;
    }
}
