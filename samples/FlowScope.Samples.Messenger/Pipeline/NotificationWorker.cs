using System.Diagnostics;
using FlowScope.Embedded.Queues;
using FlowScope.Embedded.Workers;
using Microsoft.Extensions.Options;

namespace FlowScope.Samples.Messenger.Pipeline;

/// <summary>The simulated e-mail/push provider said no.</summary>
internal sealed class NotificationFailedException(string message) : Exception(message);

/// <summary>
/// Handles the <c>notifications</c> queue: "sends" an e-mail or push notification through a simulated provider that
/// fails now and then (<c>Messenger:Notifications:FailureRate</c>, or deterministically for the first
/// <c>FailFirstAttempts</c> attempts). A failure throws, so the queue retries with exponential backoff and jitter and
/// dead-letters the job after <c>FlowScope:Queues:notifications:MaxAttempts</c> attempts.
/// </summary>
internal sealed partial class NotificationWorker(
    IWorkerScope<NotificationWorker> worker,
    IOptionsMonitor<MessengerOptions> options,
    TimeProvider time,
    ILogger<NotificationWorker> logger) : IQueueHandler<NotificationJob>
{
    public async Task HandleAsync(NotificationJob job, QueueMessageContext context, CancellationToken cancellationToken)
    {
        var settings = options.CurrentValue.Notifications;
        using var work = worker.StartUnitOfWork("notify " + job.Channel, Activity.Current?.Context ?? default);
        work.Activity?.SetTag("messenger.recipient", job.Recipient);
        work.Activity?.SetTag("messenger.channel", job.Channel);
        work.Activity?.SetTag("messenger.attempt", context.Attempt);
        try
        {
            var latency = TimeSpan.FromMilliseconds(Random.Shared.NextDouble() * settings.MaxLatency.TotalMilliseconds);
            await Task.Delay(latency, time, cancellationToken);
            if (context.Attempt <= settings.FailFirstAttempts || Random.Shared.NextDouble() < settings.FailureRate)
            {
                throw new NotificationFailedException(
                    $"The {job.Channel} provider answered 503 for {job.Recipient} (attempt {context.Attempt} of {context.MaxAttempts}).");
            }

            LogSent(logger, job.Channel, job.Recipient, job.MessageId, context.Attempt);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            work.Fail(ex);
            throw;
        }
    }

    [LoggerMessage(EventId = 20, Level = LogLevel.Information, Message = "Sent {Channel} notification to {Recipient} about message {MessageId} (attempt {Attempt})")]
    private static partial void LogSent(ILogger logger, string channel, string recipient, long messageId, int attempt);
}
