namespace FlowScope.Embedded.Redis.Internal;

/// <summary>
/// One shard writer's span accounting. Every change happens under one lock together with the change it counts, and a
/// snapshot is taken under the same lock, so <c>Produced == Persisted + Waiting + Dropped</c> holds in every snapshot,
/// under load too. The lock is taken once per batch (the pump's hand-over, a written entry), never per span.
/// </summary>
internal sealed class WriterAccount
{
    private readonly Lock _lock = new();
    private long _produced;
    private long _persisted;
    private long _waiting;
    private long _queued;
    private long _retrying;
    private long _droppedQueueFull;
    private long _droppedRetryOverflow;
    private long _droppedAtShutdown;
    private long _entriesWritten;
    private long _failedWrites;
    private long _oldestWaitingTimestamp;

    public Lock Sync => _lock;

    /// <summary>Gets the spans accepted but not yet taken by the writer thread (guarded by <see cref="Sync"/>).</summary>
    public long Queued => _queued;

    /// <summary>Counts spans handed over; the caller holds <see cref="Sync"/> and queues them when accepted.</summary>
    public bool AcceptLocked(int count, long capacity, bool stopped)
    {
        _produced += count;
        if (stopped || _queued + count > capacity)
        {
            _droppedQueueFull += count;
            return false;
        }

        _queued += count;
        _waiting += count;
        return true;
    }

    /// <summary>The writer thread took <paramref name="count"/> queued spans (caller holds <see cref="Sync"/>).</summary>
    public void TakenLocked(int count) => _queued -= count;

    public void Persisted(int spans, bool wasRetrying)
    {
        lock (_lock)
        {
            _persisted += spans;
            _waiting -= spans;
            _entriesWritten++;
            if (wasRetrying)
            {
                _retrying -= spans;
            }
        }
    }

    /// <summary>A write attempt failed; <paramref name="newlyRetrying"/> spans waited for their first attempt until now.</summary>
    public void Failed(long newlyRetrying)
    {
        lock (_lock)
        {
            _failedWrites++;
            _retrying += newlyRetrying;
        }
    }

    public void DroppedRetryOverflow(int spans, bool wasRetrying)
    {
        lock (_lock)
        {
            _droppedRetryOverflow += spans;
            _waiting -= spans;
            if (wasRetrying)
            {
                _retrying -= spans;
            }
        }
    }

    /// <summary>Spans still waiting when the writer stopped; the caller holds <see cref="Sync"/>.</summary>
    public void DroppedAtShutdownLocked(long spans, long retrying)
    {
        _droppedAtShutdown += spans;
        _waiting -= spans;
        _retrying -= retrying;
    }

    public void SetOldestWaiting(long timestamp) => Interlocked.Exchange(ref _oldestWaitingTimestamp, timestamp);

    public RedisWriterStats Snapshot(TimeProvider time, int retryBufferCapacity, int consecutiveFailures)
    {
        lock (_lock)
        {
            var oldest = Interlocked.Read(ref _oldestWaitingTimestamp);
            return new RedisWriterStats
            {
                Produced = _produced,
                Persisted = _persisted,
                Waiting = _waiting,
                Retrying = _retrying,
                DroppedQueueFull = _droppedQueueFull,
                DroppedRetryOverflow = _droppedRetryOverflow,
                DroppedAtShutdown = _droppedAtShutdown,
                Dropped = _droppedQueueFull + _droppedRetryOverflow + _droppedAtShutdown,
                EntriesWritten = _entriesWritten,
                FailedWrites = _failedWrites,
                ConsecutiveFailures = consecutiveFailures,
                Lag = oldest == 0 || _waiting == 0 ? TimeSpan.Zero : time.GetElapsedTime(oldest),
                RetryBufferCapacity = retryBufferCapacity,
            };
        }
    }
}
