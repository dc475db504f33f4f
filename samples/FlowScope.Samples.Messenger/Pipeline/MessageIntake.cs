using System.Diagnostics;
using FlowScope.Embedded.Steps;
using FlowScope.Samples.Messenger.Infrastructure;
using FlowScope.Samples.Messenger.Realtime;
using FlowScope.Samples.Messenger.Storage;
using Microsoft.Extensions.Options;

namespace FlowScope.Samples.Messenger.Pipeline;

/// <summary>What became of a message handed to <see cref="MessageIntake"/>.</summary>
internal sealed record IntakeResult(ChatMessage? Message, string? ErrorCode, string? Error)
{
    public static IntakeResult Rejected(string code, string error) => new(null, code, error);
}

/// <summary>
/// The first half of the pipeline, shared by the socket, the bot and the simulator: validate → store → publish.
/// Runs inside the message's root span, so every step below joins the message's trace.
/// </summary>
internal sealed partial class MessageIntake(IChatStore store, IMessageBus bus, InstanceInfo instance, IOptions<MessengerOptions> options, ILogger<MessageIntake> logger)
{
    private static readonly TimeSpan PublishTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Accepts a message from a user (who must be a member of the room) or, with <paramref name="system"/>, from the bot.</summary>
    public async Task<IntakeResult> AcceptAsync(string author, string? room, string? text, string? clientId, bool system, CancellationToken cancellationToken)
    {
        var rejection = await ValidateAsync(author, room, text, clientId, system);
        if (rejection is not null)
        {
            Activity.Current.Fail(rejection.ErrorCode!, rejection.Error!);
            return rejection;
        }

        ChatMessage message;
        using (var span = MessengerTelemetry.StartStore("store message", store.System, room))
        {
            message = await store.AppendAsync(room!, author, text!, clientId, Activity.Current?.TraceId.ToHexString());
            span?.SetTag("messenger.message_id", message.Id);
        }

        Activity.Current?.SetTag("messenger.message_id", message.Id);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(PublishTimeout);
        try
        {
            await bus.PublishAsync(new ChatEvent(message, instance.Id), timeout.Token);
        }
        catch (Exception ex) when (ex is OperationCanceledException or InvalidOperationException)
        {
            LogPublishFailed(logger, ex, message.Id, room!);
            Activity.Current.Fail(ErrorCodes.Busy, "The message was stored but could not be queued for delivery.");
            return new IntakeResult(message, ErrorCodes.Busy, "The server is busy: your message was saved but may arrive late. Reload the room to see it.");
        }

        LogAccepted(logger, message.Id, room!, author);
        return new IntakeResult(message, null, null);
    }

    private async Task<IntakeResult?> ValidateAsync(string author, string? room, string? text, string? clientId, bool system)
    {
        using var step = FlowScopeSteps.Start("validate message");
        step.Observe("room", room);
        step.Observe("length", text?.Length ?? -1);
        step.Observe("clientId", clientId);
        var max = options.Value.MaxMessageLength;

        IntakeResult? Reject(string code, string error)
        {
            step.Decide("reject", code);
            return IntakeResult.Rejected(code, error);
        }

        if (clientId is { Length: > 64 })
        {
            return Reject(ErrorCodes.Malformed, "clientId is at most 64 characters.");
        }

        if (string.IsNullOrWhiteSpace(text) || text.Length > max)
        {
            return Reject(ErrorCodes.InvalidText, $"A message has 1 to {max} characters and is not only whitespace.");
        }

        if (!Names.IsRoomName(room) || await store.FindRoomAsync(room!) is null)
        {
            return Reject(ErrorCodes.UnknownRoom, $"There is no room '{Shorten(room)}'.");
        }

        var member = system || await store.IsMemberAsync(room!, author);
        step.Observe("member", member);
        if (!member)
        {
            return Reject(ErrorCodes.NotMember, $"Join '{room}' before writing in it.");
        }

        step.Decide("accept", system ? "system author" : "member, valid text");
        return null;
    }

    private static string Shorten(string? value) => value is null ? "" : value.Length <= 40 ? value : value[..40] + "…";

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Message {MessageId} accepted in {Room} from {Author}")]
    private static partial void LogAccepted(ILogger logger, long messageId, string room, string author);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "Message {MessageId} in {Room} was stored but not queued")]
    private static partial void LogPublishFailed(ILogger logger, Exception exception, long messageId, string room);
}
