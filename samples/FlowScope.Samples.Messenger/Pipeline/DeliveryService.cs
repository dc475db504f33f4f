using System.Diagnostics;
using FlowScope.Embedded.Queues;
using FlowScope.Embedded.Workers;
using FlowScope.Samples.Messenger.Infrastructure;
using FlowScope.Samples.Messenger.Realtime;
using FlowScope.Samples.Messenger.Storage;
using Microsoft.Extensions.Options;

namespace FlowScope.Samples.Messenger.Pipeline;

/// <summary>
/// The delivery worker's unit of work: sends a message to every open socket of every room member on this instance
/// (one <c>socket deliver</c> span per recipient), records the receipts, tells the author, and — on the instance that
/// received the message — queues notifications for offline members and hands <c>/commands</c> to the bot.
/// </summary>
internal sealed partial class DeliveryService(
    IWorkerScope<DeliveryWorker> worker,
    ConnectionRegistry connections,
    IPresenceDirectory presence,
    IChatStore store,
    InstanceInfo instance,
    [FromKeyedServices(DeliveryService.NotificationQueue)] IQueue<NotificationJob> notifications,
    [FromKeyedServices(DeliveryService.BotQueue)] IQueue<BotCommand> bot,
    IOptions<MessengerOptions> options,
    ILogger<DeliveryService> logger)
{
    public const string NotificationQueue = "notifications";
    public const string BotQueue = "bot";

    public async Task DeliverAsync(ChatEvent chatEvent, CancellationToken cancellationToken)
    {
        var message = chatEvent.Message;
        using var work = worker.StartUnitOfWork("deliver message", Activity.Current?.Context ?? default);
        work.Activity?.SetTag("messenger.room", message.Room);
        work.Activity?.SetTag("messenger.message_id", message.Id);
        try
        {
            // The bot reads commands from its own queue; it has no sockets to deliver to.
            var members = (await store.MembersAsync(message.Room)).Where(m => !AccountService.Reserved.Contains(m)).ToList();
            var frame = Frames.Message(message);
            var timeout = options.Value.SocketSendTimeout;
            var results = await Task.WhenAll(members.Select(member => DeliverToAsync(member, frame, timeout)));

            var delivered = results.Where(r => r.Sockets > 0 && r.Delivered > 0 && r.User != message.Author).Select(r => r.User).ToList();
            var offline = results.Where(r => r.Sockets == 0 && r.User != message.Author).Select(r => r.User).ToList();
            work.Activity?.SetTag("messenger.recipients", members.Count);
            work.Activity?.SetTag("messenger.delivered", delivered.Count);

            if (delivered.Count > 0)
            {
                await store.RecordDeliveryAsync(message.Room, message.Id, delivered);
            }

            var receipt = Frames.Receipt(message, delivered, members.Count(m => m != message.Author));
            foreach (var socket in connections.Of(message.Author))
            {
                await socket.SendAsync(receipt, timeout);
            }

            if (chatEvent.Origin == instance.Id)
            {
                // Not connected here; with Redis, perhaps connected to another instance (which delivers there).
                var elsewhere = offline.Count == 0 ? null : await presence.OnlineAsync(offline);
                FollowUp(message, elsewhere is null ? offline : [.. offline.Where(u => !elsewhere.Contains(u))]);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            work.Fail(ex);
            throw;
        }
    }

    private void FollowUp(ChatMessage message, List<string> offline)
    {
        var preview = message.Text.Length <= 80 ? message.Text : message.Text[..80] + "…";
        foreach (var recipient in offline)
        {
            var channel = (recipient.GetHashCode(StringComparison.Ordinal) & 1) == 0 ? "push" : "email";
            if (!notifications.TryEnqueue(new NotificationJob(message.Id, message.Room, message.Author, recipient, preview, channel)))
            {
                LogQueueFull(logger, NotificationQueue, message.Id);
            }
        }

        if (message.Author != BotWorker.UserName && message.Text.StartsWith('/'))
        {
            if (!bot.TryEnqueue(new BotCommand(message.Id, message.Room, message.Author, message.Text)))
            {
                LogQueueFull(logger, BotQueue, message.Id);
            }
        }
    }

    private async Task<DeliveryResult> DeliverToAsync(string member, byte[] frame, TimeSpan timeout)
    {
        var sockets = connections.Of(member);
        using var span = MessengerTelemetry.Source.StartActivity("socket deliver");
        span?.SetTag("messenger.recipient", member);
        span?.SetTag("messenger.sockets", sockets.Count);
        var delivered = 0;
        foreach (var socket in sockets)
        {
            if (await socket.SendAsync(frame, timeout))
            {
                delivered++;
            }
        }

        span?.SetTag("messenger.delivered_sockets", delivered);
        span?.SetTag("messenger.delivery", sockets.Count == 0 ? "offline" : delivered > 0 ? "delivered" : "failed");
        if (sockets.Count > 0 && delivered == 0)
        {
            span.Fail("socket_failed", $"No socket of {member} took the message.");
        }

        return new DeliveryResult(member, sockets.Count, delivered);
    }

    private readonly record struct DeliveryResult(string User, int Sockets, int Delivered);

    [LoggerMessage(EventId = 10, Level = LogLevel.Warning, Message = "Queue {Queue} is full: follow-up of message {MessageId} dropped")]
    private static partial void LogQueueFull(ILogger logger, string queue, long messageId);
}
