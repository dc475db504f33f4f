using FlowScope.Embedded.Metrics;

namespace FlowScope.Embedded.Queues.Internal;

/// <summary>The live counters of one in-process queue. Updated by the queue, read by <see cref="QueueRegistry"/>.</summary>
internal sealed class QueueMetrics
{
    internal const int RateWindowSeconds = 10;
    internal const int WaitSampleCount = 1_024;
    internal const int MaxErrorLength = 1_024;

    // The rates and the wait reservoir are not thread-safe: the queue pays far more per message than this lock.
    private readonly Lock _lock = new();
    private readonly RateWindow _enqueueRate = new();
    private readonly RateWindow _dequeueRate = new();
    private readonly DurationReservoir _waits = new(WaitSampleCount);

    private long _enqueued;
    private long _dequeued;
    private long _succeeded;
    private long _retries;
    private long _deadLettered;
    private long _rejected;
    private int _inFlight;
    private int _pendingRetries;

    public void Enqueued(DateTimeOffset now)
    {
        Interlocked.Increment(ref _enqueued);
        lock (_lock)
        {
            _enqueueRate.Add(now, error: false);
        }
    }

    public void Rejected() => Interlocked.Increment(ref _rejected);

    public void Dequeued(DateTimeOffset now, TimeSpan wait)
    {
        Interlocked.Increment(ref _dequeued);
        Interlocked.Increment(ref _inFlight);
        lock (_lock)
        {
            _dequeueRate.Add(now, error: false);
            _waits.Add(wait.TotalMilliseconds);
        }
    }

    public void Succeeded()
    {
        Interlocked.Increment(ref _succeeded);
        Interlocked.Decrement(ref _inFlight);
    }

    public void RetryScheduled()
    {
        Interlocked.Increment(ref _retries);
        Interlocked.Decrement(ref _inFlight);
    }

    public void RetryPending() => Interlocked.Increment(ref _pendingRetries);

    public void RetryReleased() => Interlocked.Decrement(ref _pendingRetries);

    public void Abandoned() => Interlocked.Decrement(ref _inFlight);

    public void DeadLettered()
    {
        Interlocked.Increment(ref _deadLettered);
        Interlocked.Decrement(ref _inFlight);
    }

    public QueueMetricsSnapshot Snapshot(string name, string messageType, int depth, int capacity, DateTimeOffset now, IReadOnlyList<DeadLetterSnapshot> deadLetters)
    {
        double[] waits;
        double enqueueRate, dequeueRate;
        lock (_lock)
        {
            waits = _waits.Percentiles(50, 95);
            enqueueRate = _enqueueRate.Over(now, RateWindowSeconds).PerSecond;
            dequeueRate = _dequeueRate.Over(now, RateWindowSeconds).PerSecond;
        }

        return new QueueMetricsSnapshot(
            name,
            messageType,
            depth,
            capacity,
            Interlocked.Read(ref _enqueued),
            Interlocked.Read(ref _dequeued),
            enqueueRate,
            dequeueRate,
            Math.Max(0, Volatile.Read(ref _inFlight)),
            Interlocked.Read(ref _succeeded),
            Interlocked.Read(ref _retries),
            Interlocked.Read(ref _deadLettered),
            Interlocked.Read(ref _rejected),
            Math.Max(0, Volatile.Read(ref _pendingRetries)),
            waits[0],
            waits[1],
            deadLetters);
    }
}
