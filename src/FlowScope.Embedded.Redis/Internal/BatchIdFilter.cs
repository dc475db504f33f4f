namespace FlowScope.Embedded.Redis.Internal;

/// <summary>
/// Remembers the most recent batch ids so a batch written twice (a retried write that had in fact succeeded) is
/// added once. Bounded: the oldest ids are forgotten first; duplicates are written moments apart, never far.
/// </summary>
internal sealed class BatchIdFilter(int capacity)
{
    private readonly HashSet<string> _seen = new(StringComparer.Ordinal);
    private readonly Queue<string> _order = new();

    /// <summary>Returns <see langword="true"/> the first time an id is seen.</summary>
    public bool TryAdd(string batchId)
    {
        if (!_seen.Add(batchId))
        {
            return false;
        }

        _order.Enqueue(batchId);
        if (_order.Count > capacity)
        {
            _seen.Remove(_order.Dequeue());
        }

        return true;
    }
}
