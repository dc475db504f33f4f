using FlowScope.Samples.Messenger.Storage;

namespace FlowScope.Samples.Messenger.Pipeline;

/// <summary>A stored message on its way to the recipients. <see cref="Origin"/> is the instance that received it.</summary>
internal sealed record ChatEvent(ChatMessage Message, string Origin);

/// <summary>One simulated e-mail/push notification to a member who was offline when a message arrived.</summary>
internal sealed record NotificationJob(long MessageId, string Room, string Author, string Recipient, string Preview, string Channel);

/// <summary>A <c>/command</c> for the bot.</summary>
internal sealed record BotCommand(long MessageId, string Room, string Author, string Text);

/// <summary>Carries stored messages to the delivery workers: an in-process FlowScope queue, or Redis Streams.</summary>
internal interface IMessageBus
{
    /// <summary>The messaging system, as recorded on queue spans (<c>in-process</c>, <c>redis</c>).</summary>
    string System { get; }

    ValueTask PublishAsync(ChatEvent chatEvent, CancellationToken cancellationToken);
}

/// <summary>The identity of this app instance (to tell its own messages from other instances' on a shared bus).</summary>
internal sealed class InstanceInfo
{
    public string Id { get; } = $"{Environment.MachineName}-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..6]}";
}
