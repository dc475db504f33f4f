namespace FlowScope.Embedded.Metrics;

/// <summary>
/// Which spans had something fail under them, so a unit of work counts as failed when anything it started failed
/// (a request whose database call failed, a simulator run whose send was refused): a failed span marks its parent,
/// and a span ending with a mark passes it on to its own parent. Children end before their parents, so the mark is
/// there when the parent arrives. Bounded: two generations of ids, the older dropped when the newer fills up (a mark
/// whose parent never arrives is forgotten). Not thread-safe.
/// </summary>
internal sealed class FailedWork
{
    private const int GenerationSize = 4_096;
    private HashSet<ulong> _current = new();
    private HashSet<ulong> _previous = new();

    /// <summary>Records that something under the span <paramref name="parentSpanId"/> failed.</summary>
    public void MarkParent(ulong parentSpanId)
    {
        if (_current.Count >= GenerationSize)
        {
            (_previous, _current) = (_current, _previous);
            _current.Clear();
        }

        _current.Add(parentSpanId);
    }

    /// <summary>Whether no mark waits (most of the time: then no span needs looking up).</summary>
    public bool IsEmpty => _current.Count == 0 && _previous.Count == 0;

    /// <summary>Whether something under <paramref name="spanId"/> failed; forgets the mark.</summary>
    public bool TakeFailedBelow(ulong spanId) => !IsEmpty && (_current.Remove(spanId) | _previous.Remove(spanId));
}
