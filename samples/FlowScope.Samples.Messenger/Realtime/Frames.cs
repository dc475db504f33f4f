using System.Text.Json;
using System.Text.Json.Serialization;
using FlowScope.Samples.Messenger.Storage;

namespace FlowScope.Samples.Messenger.Realtime;

/// <summary>A frame a client sends: <c>send</c>, <c>typing</c> or <c>ping</c>.</summary>
internal sealed record InboundFrame(string? Type, string? Room, string? Text, string? ClientId);

/// <summary>The frames the server sends. Every frame is a JSON object with a <c>type</c>.</summary>
internal static class Frames
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public static byte[] Encode<T>(T frame) => JsonSerializer.SerializeToUtf8Bytes(frame, Json);

    public static byte[] Message(ChatMessage m) =>
        Encode(new { type = "message", id = m.Id, room = m.Room, author = m.Author, text = m.Text, sentAt = m.SentAt, clientId = m.ClientId, traceId = m.TraceId });

    public static byte[] Ack(ChatMessage m) =>
        Encode(new { type = "ack", id = m.Id, room = m.Room, clientId = m.ClientId, traceId = m.TraceId });

    public static byte[] Receipt(ChatMessage m, IReadOnlyCollection<string> deliveredTo, int recipients) =>
        Encode(new { type = "receipt", id = m.Id, room = m.Room, clientId = m.ClientId, deliveredTo, recipients });

    public static byte[] Typing(string room, string user) => Encode(new { type = "typing", room, user });

    public static byte[] Presence(string user, bool online) => Encode(new { type = "presence", user, online });

    public static byte[] Hello(string user, IReadOnlyList<string> online, int maxMessageLength, int maxFrameBytes) =>
        Encode(new { type = "hello", user, online, maxMessageLength, maxFrameBytes });

    public static byte[] Pong() => Encode(new { type = "pong" });

    public static byte[] Error(string code, string message, string? clientId = null) =>
        Encode(new { type = "error", code, message, clientId });
}

/// <summary>Error codes of <c>error</c> frames (and of rejected messages).</summary>
internal static class ErrorCodes
{
    public const string TooLarge = "too_large";
    public const string Malformed = "malformed";
    public const string Unsupported = "unsupported";
    public const string UnknownType = "unknown_type";
    public const string UnknownRoom = "unknown_room";
    public const string NotMember = "not_member";
    public const string InvalidText = "invalid_text";
    public const string RateLimited = "rate_limited";
    public const string Busy = "busy";
    public const string Internal = "internal";
}
