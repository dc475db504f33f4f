using System.Diagnostics.CodeAnalysis;

namespace FlowScope.Embedded.Queues;

/// <summary>
/// An in-process queue registered with <c>AddQueue</c>. Inject it to enqueue messages; the queue's
/// <see cref="IQueueHandler{TMessage}"/> handles them in the background. Each message continues the trace it was
/// enqueued in: the producer span, then one consumer span per attempt.
/// </summary>
/// <typeparam name="TMessage">The message type.</typeparam>
[SuppressMessage("Naming", "CA1711:Identifiers should not have incorrect suffix", Justification = "It is a message queue; the name says so.")]
public interface IQueue<TMessage>
{
    /// <summary>Gets the queue's name (<c>messaging.destination.name</c>).</summary>
    string Name { get; }

    /// <summary>Gets how many messages wait to be handled.</summary>
    int Count { get; }

    /// <summary>Enqueues a message if there is room; never waits.</summary>
    /// <param name="message">The message.</param>
    /// <returns><see langword="false"/> when the queue is full or stopped (the refusal is counted).</returns>
    bool TryEnqueue(TMessage message);

    /// <summary>
    /// Enqueues a message. When the queue is full it waits for room or throws <see cref="QueueFullException"/>,
    /// as <see cref="QueueOptions.FullMode"/> says.
    /// </summary>
    /// <param name="message">The message.</param>
    /// <param name="cancellationToken">Cancels waiting for room.</param>
    /// <returns>A task that completes when the message is in the queue.</returns>
    /// <exception cref="QueueFullException">The queue is full and <see cref="QueueOptions.FullMode"/> is <see cref="QueueFullMode.Throw"/>.</exception>
    /// <exception cref="InvalidOperationException">The queue has stopped (the host is shutting down).</exception>
    ValueTask EnqueueAsync(TMessage message, CancellationToken cancellationToken = default);

    /// <summary>
    /// Gets the dead-lettered messages the queue still keeps (at most <see cref="QueueOptions.DeadLetterCapacity"/>,
    /// the oldest dropped first), oldest first. To retry one, enqueue its message again (it becomes a new message)
    /// and remove it with <see cref="TryRemoveDeadLetter"/>.
    /// </summary>
    /// <returns>A copy of the dead-letter list.</returns>
    IReadOnlyList<QueueDeadLetter<TMessage>> GetDeadLetters();

    /// <summary>Removes a dead letter from the queue's list.</summary>
    /// <param name="messageId">The dead letter's <see cref="QueueDeadLetter{TMessage}.MessageId"/>.</param>
    /// <returns><see langword="true"/> when it was in the list.</returns>
    bool TryRemoveDeadLetter(string messageId);
}
