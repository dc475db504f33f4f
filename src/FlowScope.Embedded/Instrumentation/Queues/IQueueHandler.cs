namespace FlowScope.Embedded.Queues;

/// <summary>
/// Handles the messages of an in-process queue. Resolved from a new service scope for every attempt. Throwing fails
/// the attempt: the message is retried after a backoff, and dead-lettered after the last attempt.
/// </summary>
/// <typeparam name="TMessage">The message type.</typeparam>
public interface IQueueHandler<in TMessage>
{
    /// <summary>Handles one message. The consumer span is <see cref="System.Diagnostics.Activity.Current"/> meanwhile.</summary>
    /// <param name="message">The message.</param>
    /// <param name="context">The message's delivery details.</param>
    /// <param name="cancellationToken">Fires when the host's shutdown timeout runs out.</param>
    /// <returns>A task that completes when the message is handled.</returns>
    Task HandleAsync(TMessage message, QueueMessageContext context, CancellationToken cancellationToken);
}
