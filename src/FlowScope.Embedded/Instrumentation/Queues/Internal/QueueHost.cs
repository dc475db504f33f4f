namespace FlowScope.Embedded.Queues.Internal;

/// <summary>Starts every in-process queue's handlers with the host and stops them gracefully with it.</summary>
internal sealed class QueueHost : Microsoft.Extensions.Hosting.IHostedService
{
    private readonly QueueRegistry _registry;

    public QueueHost(QueueRegistry registry, QueueMeter meter)
    {
        _registry = registry;
        _ = meter; // created with the host so the queues' meter exists while they run
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var queue in _registry.Queues)
        {
            await queue.StartAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) =>
        Task.WhenAll(_registry.Queues.Select(q => q.StopAsync(cancellationToken)));
}
