namespace FlowScope.Embedded.Queues.Internal;

/// <summary>All in-process queues of the app; the dashboard's metrics API reads their snapshots here.</summary>
internal sealed class QueueRegistry
{
    private readonly IQueueRuntime[] _queues;

    public QueueRegistry(IEnumerable<IQueueRuntime> queues)
    {
        _queues = [.. queues];
    }

    internal IReadOnlyList<IQueueRuntime> Queues => _queues;

    /// <summary>Gets every queue's metrics now, in registration order.</summary>
    public IReadOnlyList<QueueMetricsSnapshot> Snapshot()
    {
        var result = new QueueMetricsSnapshot[_queues.Length];
        for (var i = 0; i < _queues.Length; i++)
        {
            result[i] = _queues[i].Snapshot();
        }

        return result;
    }
}
