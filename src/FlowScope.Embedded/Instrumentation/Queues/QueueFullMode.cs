namespace FlowScope.Embedded.Queues;

/// <summary>What <see cref="IQueue{TMessage}.EnqueueAsync"/> does when the queue is full.</summary>
public enum QueueFullMode
{
    /// <summary>Wait until there is room (or the cancellation token fires).</summary>
    Wait,

    /// <summary>Throw <see cref="QueueFullException"/> at once.</summary>
    Throw,
}
