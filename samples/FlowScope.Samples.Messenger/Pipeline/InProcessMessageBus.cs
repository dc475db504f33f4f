using FlowScope.Embedded.Queues;

namespace FlowScope.Samples.Messenger.Pipeline;

/// <summary>The default bus: FlowScope's traced in-process queue <c>messages</c>, handled by <see cref="DeliveryWorker"/>.</summary>
internal sealed class InProcessMessageBus([FromKeyedServices(InProcessMessageBus.QueueName)] IQueue<ChatEvent> queue) : IMessageBus
{
    public const string QueueName = "messages";

    public string System => "in-process";

    public ValueTask PublishAsync(ChatEvent chatEvent, CancellationToken cancellationToken) => queue.EnqueueAsync(chatEvent, cancellationToken);
}

/// <summary>Handles the <c>messages</c> queue: fans each message out to its recipients.</summary>
internal sealed class DeliveryWorker(DeliveryService delivery) : IQueueHandler<ChatEvent>
{
    public Task HandleAsync(ChatEvent message, QueueMessageContext context, CancellationToken cancellationToken) =>
        delivery.DeliverAsync(message, cancellationToken);
}
