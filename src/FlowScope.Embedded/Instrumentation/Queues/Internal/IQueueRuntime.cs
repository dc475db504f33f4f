namespace FlowScope.Embedded.Queues.Internal;

/// <summary>What the queue host and the registry need of an in-process queue, whatever its message type.</summary>
internal interface IQueueRuntime
{
    string Name { get; }

    Task StartAsync(CancellationToken cancellationToken);

    Task StopAsync(CancellationToken cancellationToken);

    QueueMetricsSnapshot Snapshot();
}
