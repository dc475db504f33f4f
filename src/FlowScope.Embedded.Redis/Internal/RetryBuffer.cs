using Microsoft.Extensions.Logging;

namespace FlowScope.Embedded.Redis.Internal;

/// <summary>
/// One shard writer's entries not yet persisted, oldest first: entries waiting for their first write and entries
/// whose write failed. Bounded in spans: a new entry that does not fit makes the oldest entries not in flight go,
/// counted as dropped. Used by the writer thread only.
/// </summary>
internal sealed class RetryBuffer(int capacity, WriterAccount account, ILogger logger, int configuredCapacity)
{
    private readonly List<PackedBatch> _batches = [];
    private int _spans;
    private bool _overflowLogged;

    public int Capacity => capacity;

    public int Count => _batches.Count;

    /// <summary>Gets the entries, oldest first.</summary>
    public IReadOnlyList<PackedBatch> Batches => _batches;

    public void Add(PackedBatch batch)
    {
        while (_spans + batch.SpanCount > capacity)
        {
            // Entries being written are not evicted (they may be persisted a moment later); the buffer can exceed
            // its capacity by at most the in-flight window meanwhile.
            var index = _batches.FindIndex(static b => !b.InFlight);
            if (index < 0)
            {
                break;
            }

            var victim = _batches[index];
            _batches.RemoveAt(index);
            _spans -= victim.SpanCount;
            account.DroppedRetryOverflow(victim.SpanCount, victim.Attempts > 0);
            if (!_overflowLogged)
            {
                _overflowLogged = true;
                RedisLog.Dropped(logger, "retry buffer", configuredCapacity);
            }
        }

        _batches.Add(batch);
        _spans += batch.SpanCount;
        UpdateOldest();
    }

    /// <summary>Removes a written entry and counts its spans as persisted.</summary>
    public void Persisted(PackedBatch batch)
    {
        _batches.Remove(batch);
        _spans -= batch.SpanCount;
        account.Persisted(batch.SpanCount, batch.Attempts > 0);
        UpdateOldest();
    }

    /// <summary>Marks every entry as having had an attempt; returns the spans whose first attempt this was.</summary>
    public long MarkAttempted()
    {
        long newlyRetrying = 0;
        foreach (var batch in _batches)
        {
            if (batch.Attempts++ == 0)
            {
                newlyRetrying += batch.SpanCount;
            }
        }

        return newlyRetrying;
    }

    /// <summary>Empties the buffer; returns the spans it held and how many of them were retrying.</summary>
    public (long Spans, long Retrying) Clear()
    {
        long spans = 0;
        long retrying = 0;
        foreach (var batch in _batches)
        {
            spans += batch.SpanCount;
            retrying += batch.Attempts > 0 ? batch.SpanCount : 0;
            batch.InFlight = false;
        }

        _batches.Clear();
        _spans = 0;
        UpdateOldest();
        return (spans, retrying);
    }

    private void UpdateOldest() => account.SetOldestWaiting(_batches.Count > 0 ? _batches[0].EnqueuedTimestamp : 0);
}
