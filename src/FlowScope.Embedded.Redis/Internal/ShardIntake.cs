using Microsoft.Extensions.Logging;

namespace FlowScope.Embedded.Redis.Internal;

/// <summary>
/// The hand-over between the pump and one shard's writer thread: a bounded list the pump appends to under the
/// account's lock (counting the spans at the same moment) and the writer thread swaps out whole. Appending never
/// waits for the writer; a full intake, or one closed because the writer stopped, drops and counts.
/// </summary>
internal sealed class ShardIntake(WriterAccount account, int capacity, WakeSignal wake, ILogger logger, int configuredCapacity)
{
    private List<QueuedBatch> _incoming = [];
    private List<QueuedBatch> _taken = [];
    private bool _completed;
    private int _fullLogged;

    public int Capacity => capacity;

    public bool TryEnqueue(QueuedBatch batch)
    {
        var count = batch.Count;
        if (count == 0)
        {
            return true;
        }

        bool accepted;
        lock (account.Sync)
        {
            accepted = account.AcceptLocked(count, capacity, _completed);
            if (accepted)
            {
                _incoming.Add(batch);
            }
        }

        if (!accepted)
        {
            if (Interlocked.Exchange(ref _fullLogged, 1) == 0)
            {
                RedisLog.Dropped(logger, "writer queue", configuredCapacity);
            }

            return false;
        }

        wake.Set();
        return true;
    }

    /// <summary>No more batches are accepted.</summary>
    public void Complete()
    {
        lock (account.Sync)
        {
            _completed = true;
        }

        wake.Set();
    }

    /// <summary>
    /// Takes everything handed over so far. The list is the caller's until the next call; <c>Completed</c> tells
    /// whether nothing more can arrive after it.
    /// </summary>
    public (List<QueuedBatch> Batches, bool Completed) Take()
    {
        lock (account.Sync)
        {
            _taken.Clear();
            (_incoming, _taken) = (_taken, _incoming);
            foreach (var queued in _taken)
            {
                account.TakenLocked(queued.Count);
            }

            return (_taken, _completed);
        }
    }

    /// <summary>Closes the intake for good and returns the spans still in it; the caller holds the account's lock.</summary>
    public long CloseLocked()
    {
        _completed = true;
        long left = 0;
        foreach (var queued in _incoming)
        {
            account.TakenLocked(queued.Count);
            left += queued.Count;
        }

        _incoming.Clear();
        return left;
    }
}
