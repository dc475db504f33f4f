using System.ComponentModel.DataAnnotations;
using FlowScope.Samples.Messenger.Storage;

namespace FlowScope.Samples.Messenger.Api;

/// <summary>Registration or sign-in. Names are lower-case letters, digits, '-' and '_' (3 to 24).</summary>
internal sealed class Credentials
{
    [Required]
    [RegularExpression(Names.UserNamePattern, ErrorMessage = "A user name has 3 to 24 lower-case letters, digits, '-' or '_', starting with a letter or digit.")]
    public string UserName { get; set; } = "";

    [Required]
    [StringLength(128, MinimumLength = 8, ErrorMessage = "A password has 8 to 128 characters.")]
    public string Password { get; set; } = "";
}

/// <summary>Sign-in: the name is compared case-insensitively, so only its size is checked here.</summary>
internal sealed class SignIn
{
    [Required]
    [StringLength(64)]
    public string UserName { get; set; } = "";

    [Required]
    [StringLength(128)]
    public string Password { get; set; } = "";
}

/// <summary>A new room.</summary>
internal sealed class NewRoom
{
    [Required]
    [RegularExpression(Names.RoomNamePattern, ErrorMessage = "A room name has 2 to 32 lower-case letters, digits or '-', starting with a letter or digit.")]
    public string Name { get; set; } = "";

    [StringLength(120)]
    public string? Topic { get; set; }
}

/// <summary>Paging of a room's history.</summary>
internal sealed class HistoryQuery
{
    /// <summary>Only messages with a smaller id (older), for paging back.</summary>
    [Range(1, long.MaxValue)]
    public long? Before { get; set; }

    [Range(1, 200)]
    public int Limit { get; set; } = 50;
}

internal sealed record UserView(string UserName, bool Online);

internal sealed record RoomView(string Name, string Topic, int Members, bool Joined);

internal sealed record MessageView(long Id, string Room, string Author, string Text, DateTimeOffset SentAt, string? TraceId, IReadOnlyList<string> DeliveredTo);
