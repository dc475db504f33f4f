using System.Text.RegularExpressions;

namespace FlowScope.Samples.Messenger.Storage;

/// <summary>A registered user. The password is only ever kept as a <c>PasswordHasher</c> hash.</summary>
internal sealed record UserAccount(string UserName, string PasswordHash, DateTimeOffset CreatedAt);

/// <summary>A chat room.</summary>
internal sealed record RoomInfo(string Name, string Topic, DateTimeOffset CreatedAt);

/// <summary>A room as the room list shows it.</summary>
internal sealed record RoomSummary(string Name, string Topic, int Members, bool Joined);

/// <summary>A stored message. <see cref="TraceId"/> names the trace it travelled in (shown in the UI, searchable in /_flowscope).</summary>
internal sealed record ChatMessage(long Id, string Room, string Author, string Text, DateTimeOffset SentAt, string? ClientId, string? TraceId)
{
    /// <summary>Users (other than the author) the message reached on at least one socket.</summary>
    public IReadOnlyList<string> DeliveredTo { get; init; } = [];
}

/// <summary>Rules for names, shared by the HTTP API and the socket.</summary>
internal static partial class Names
{
    public const string UserNamePattern = "^[a-z0-9][a-z0-9_-]{2,23}$";
    public const string RoomNamePattern = "^[a-z0-9][a-z0-9-]{1,31}$";

    public static string Normalize(string value) => value.Trim().ToLowerInvariant();

    public static bool IsRoomName(string? value) => value is not null && RoomName().IsMatch(value);

    [GeneratedRegex(RoomNamePattern, RegexOptions.CultureInvariant)]
    private static partial Regex RoomName();
}
