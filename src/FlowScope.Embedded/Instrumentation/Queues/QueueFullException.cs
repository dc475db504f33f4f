namespace FlowScope.Embedded.Queues;

/// <summary>Thrown by <see cref="IQueue{TMessage}.EnqueueAsync"/> when the queue is full and its <see cref="QueueOptions.FullMode"/> is <see cref="QueueFullMode.Throw"/>.</summary>
public sealed class QueueFullException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    public QueueFullException()
        : this("The queue is full.")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">The message.</param>
    public QueueFullException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public QueueFullException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
