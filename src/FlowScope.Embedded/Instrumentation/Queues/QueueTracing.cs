using System.Diagnostics;
using FlowScope.Embedded.Queues.Internal;
using FlowScope.Embedded.Workers.Internal;

namespace FlowScope.Embedded.Queues;

/// <summary>
/// Instruments any queue. The producer calls <see cref="StartSend"/> around the enqueue and stores
/// <see cref="QueueSendScope.Context"/> in the message; the consumer calls <see cref="StartProcess"/> (or
/// <see cref="StartProcessBatch"/>) with the context the message carried, so the handler's span continues the
/// producer's trace even though <see cref="Activity.Current"/> does not flow into a long-running reader loop.
/// Spans are created on the <see cref="ActivitySourceName"/> source with OpenTelemetry <c>messaging.*</c>
/// attributes. Instrumentation failures are contained: these methods only throw for invalid arguments.
/// </summary>
public static class QueueTracing
{
    /// <summary>The name of the activity source queue spans are created on: <c>FlowScope.Queues</c>.</summary>
    public const string ActivitySourceName = "FlowScope.Queues";

    internal static readonly ActivitySource Source = new(ActivitySourceName);

    /// <summary>
    /// Starts a producer span (<c>send {destination}</c>) as a child of the current activity. Dispose the result
    /// once the message is handed to the queue.
    /// </summary>
    /// <param name="system">The messaging system (<c>messaging.system</c>), for example <c>rabbitmq</c>.</param>
    /// <param name="destination">The queue or topic name (<c>messaging.destination.name</c>).</param>
    /// <param name="messageId">The message id (<c>messaging.message.id</c>), when known.</param>
    /// <returns>The send scope; its <see cref="QueueSendScope.Context"/> goes into the message.</returns>
    public static QueueSendScope StartSend(string system, string destination, string? messageId = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(system);
        ArgumentException.ThrowIfNullOrEmpty(destination);
        return StartSendCore(system, destination, SendName(destination), messageId, DateTimeOffset.UtcNow);
    }

    /// <summary>
    /// Starts a consumer span (<c>process {destination}</c>) for one message. Its parent is the producer span the
    /// message's <paramref name="message"/> context names; without one, the current activity (if any). The queue
    /// wait time is computed from <see cref="QueueTraceContext.EnqueuedAt"/> when the context carries it.
    /// </summary>
    /// <param name="system">The messaging system (<c>messaging.system</c>).</param>
    /// <param name="destination">The queue or topic name (<c>messaging.destination.name</c>).</param>
    /// <param name="message">The trace context the message carried, or <see langword="null"/>.</param>
    /// <param name="messageId">The message id (<c>messaging.message.id</c>), when known.</param>
    /// <param name="attempt">The delivery attempt, starting at 1.</param>
    /// <returns>The process scope; set its outcome and dispose it when the handler is done.</returns>
    public static QueueProcessScope StartProcess(string system, string destination, QueueTraceContext? message, string? messageId = null, int attempt = 1)
    {
        ArgumentException.ThrowIfNullOrEmpty(system);
        ArgumentException.ThrowIfNullOrEmpty(destination);
        ArgumentOutOfRangeException.ThrowIfLessThan(attempt, 1);
        var now = DateTimeOffset.UtcNow;
        TimeSpan? wait = message?.EnqueuedAt is { } enqueuedAt ? Max(now - enqueuedAt, TimeSpan.Zero) : null;
        return StartProcessCore(system, destination, ProcessName(destination), message?.ActivityContext ?? default, messageId, attempt, wait);
    }

    /// <summary>
    /// Starts one consumer span for a batch of messages, linked to each message's producer span (OpenTelemetry's
    /// batch convention: links rather than one parent). Its parent is the current activity, if any.
    /// </summary>
    /// <param name="system">The messaging system (<c>messaging.system</c>).</param>
    /// <param name="destination">The queue or topic name (<c>messaging.destination.name</c>).</param>
    /// <param name="messages">The trace contexts the messages carried.</param>
    /// <returns>The process scope; set its outcome and dispose it when the batch is done.</returns>
    public static QueueProcessScope StartProcessBatch(string system, string destination, IReadOnlyList<QueueTraceContext> messages)
    {
        ArgumentException.ThrowIfNullOrEmpty(system);
        ArgumentException.ThrowIfNullOrEmpty(destination);
        ArgumentNullException.ThrowIfNull(messages);

        var previous = Activity.Current;
        Activity? activity = null;
        try
        {
            var links = new List<ActivityLink>(messages.Count);
            var oldest = (DateTimeOffset?)null;
            foreach (var message in messages)
            {
                if (message is null)
                {
                    continue;
                }

                var context = message.ActivityContext;
                if (context != default)
                {
                    links.Add(new ActivityLink(context));
                }

                if (message.EnqueuedAt is { } at && (oldest is null || at < oldest))
                {
                    oldest = at;
                }
            }

            activity = Source.StartActivity(ActivityKind.Consumer, default, tags: null, links: links, name: ProcessName(destination));
            if (activity is { IsAllDataRequested: true })
            {
                SetCommonTags(activity, system, destination, MessagingAttributes.Process, messageId: null);
                activity.SetTag(MessagingAttributes.BatchMessageCount, messages.Count);
                if (oldest is { } first)
                {
                    activity.SetTag(MessagingAttributes.WaitMs, Max(DateTimeOffset.UtcNow - first, TimeSpan.Zero).TotalMilliseconds);
                }
            }
        }
        catch (Exception ex)
        {
            InstrumentationFailures.RestoreCurrent(previous);
            InstrumentationFailures.Report("queue", ex);
        }

        return new QueueProcessScope(activity, previous, attempt: 1, waitTime: null);
    }

    /// <summary>The producer span's name for <paramref name="destination"/> (queues keep theirs: one string per queue, not per message).</summary>
    internal static string SendName(string destination) => "send " + destination;

    /// <summary>The consumer span's name for <paramref name="destination"/>.</summary>
    internal static string ProcessName(string destination) => "process " + destination;

    internal static QueueSendScope StartSendCore(string system, string destination, string spanName, string? messageId, DateTimeOffset enqueuedAt)
    {
        var previous = Activity.Current;
        Activity? activity = null;
        try
        {
            activity = Source.StartActivity(spanName, ActivityKind.Producer);
            if (activity is { IsAllDataRequested: true })
            {
                SetCommonTags(activity, system, destination, MessagingAttributes.Send, messageId);
            }
        }
        catch (Exception ex)
        {
            InstrumentationFailures.RestoreCurrent(previous);
            InstrumentationFailures.Report("queue", ex);
        }

        // Without a producer span (nobody listening), the current activity's context still travels with the message.
        return new QueueSendScope(activity, QueueTraceContext.FromActivity(activity ?? Activity.Current, enqueuedAt));
    }

    internal static QueueProcessScope StartProcessCore(string system, string destination, string spanName, ActivityContext parent, string? messageId, int attempt, TimeSpan? wait)
    {
        var previous = Activity.Current;
        Activity? activity = null;
        try
        {
            activity = Source.StartActivity(spanName, ActivityKind.Consumer, parent);
            if (activity is { IsAllDataRequested: true })
            {
                SetCommonTags(activity, system, destination, MessagingAttributes.Process, messageId);
                activity.SetTag(MessagingAttributes.Attempt, (uint)attempt < (uint)s_attempts.Length ? s_attempts[attempt] : attempt);
                if (wait is { } w)
                {
                    activity.SetTag(MessagingAttributes.WaitMs, Math.Round(w.TotalMilliseconds, 3));
                }
            }
        }
        catch (Exception ex)
        {
            InstrumentationFailures.RestoreCurrent(previous);
            InstrumentationFailures.Report("queue", ex);
        }

        return new QueueProcessScope(activity, previous, attempt, wait);
    }

    // Attempt numbers as boxed values, so the usual first attempts box nothing per message.
    private static readonly object[] s_attempts = [.. Enumerable.Range(0, 9).Select(static i => (object)i)];

    // No flowscope.component tag: producer and consumer spans are queue spans by their kind (SpanConverter.InferComponent).
    private static void SetCommonTags(Activity activity, string system, string destination, string operation, string? messageId)
    {
        activity.SetTag(MessagingAttributes.System, system);
        activity.SetTag(MessagingAttributes.DestinationName, destination);
        activity.SetTag(MessagingAttributes.OperationType, operation);
        activity.SetTag(MessagingAttributes.OperationName, operation);
        if (messageId is not null)
        {
            activity.SetTag(MessagingAttributes.MessageId, messageId);
        }
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

}
