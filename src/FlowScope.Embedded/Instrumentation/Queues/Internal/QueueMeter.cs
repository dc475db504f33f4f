using System.Diagnostics.Metrics;

namespace FlowScope.Embedded.Queues.Internal;

/// <summary>
/// Publishes the in-process queues' metrics on the <c>FlowScope.Queues</c> meter, one series per queue
/// (<c>messaging.destination.name</c>), so an app exporting metrics with OpenTelemetry sees them too. Observable
/// instruments read the queues' existing counters at collection time: nothing is added to the message path.
/// </summary>
internal sealed class QueueMeter
{
    internal const string MeterName = "FlowScope.Queues";

    public QueueMeter(IMeterFactory meterFactory, QueueRegistry registry)
    {
        var queues = registry.Queues;
        if (queues.Count == 0)
        {
            return;
        }

        var meter = meterFactory.Create(MeterName);
        meter.CreateObservableUpDownCounter("flowscope.queue.depth", () => Measure(queues, s => s.Depth), "{message}", "Messages waiting in the queue.");
        meter.CreateObservableUpDownCounter("flowscope.queue.in_flight", () => Measure(queues, s => s.InFlight), "{message}", "Messages being handled.");
        meter.CreateObservableCounter("flowscope.queue.enqueued", () => Measure(queues, s => s.Enqueued), "{message}", "Messages accepted into the queue.");
        meter.CreateObservableCounter("flowscope.queue.dequeued", () => Measure(queues, s => s.Dequeued), "{attempt}", "Handling attempts started.");
        meter.CreateObservableCounter("flowscope.queue.retries", () => Measure(queues, s => s.Retries), "{attempt}", "Failed attempts followed by a retry.");
        meter.CreateObservableCounter("flowscope.queue.dead_lettered", () => Measure(queues, s => s.DeadLettered), "{message}", "Messages dead-lettered after their last attempt.");
        meter.CreateObservableCounter("flowscope.queue.rejected", () => Measure(queues, s => s.Rejected), "{message}", "Enqueues refused because the queue was full or stopped.");
    }

    private static IEnumerable<Measurement<long>> Measure(IReadOnlyList<IQueueRuntime> queues, Func<QueueMetricsSnapshot, long> read)
    {
        foreach (var queue in queues)
        {
            yield return new Measurement<long>(read(queue.Snapshot()), new KeyValuePair<string, object?>("messaging.destination.name", queue.Name));
        }
    }
}
