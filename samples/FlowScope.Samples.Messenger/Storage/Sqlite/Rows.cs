namespace FlowScope.Samples.Messenger.Storage.Sqlite;

// The tables' rows, as EF Core maps them (see MessengerDb.OnModelCreating).

internal sealed class UserRow
{
    public string UserName { get; set; } = "";

    public string PasswordHash { get; set; } = "";

    public DateTimeOffset CreatedAt { get; set; }
}

internal sealed class RoomRow
{
    public string Name { get; set; } = "";

    public string Topic { get; set; } = "";

    public DateTimeOffset CreatedAt { get; set; }

    public List<MemberRow> Members { get; } = [];
}

internal sealed class MemberRow
{
    public string Room { get; set; } = "";

    public string UserName { get; set; } = "";
}

internal sealed class MessageRow
{
    public long Id { get; set; }

    public string Room { get; set; } = "";

    public string Author { get; set; } = "";

    public string Text { get; set; } = "";

    public DateTimeOffset SentAt { get; set; }

    public string? ClientId { get; set; }

    public string? TraceId { get; set; }

    public List<DeliveryRow> Deliveries { get; } = [];
}

internal sealed class DeliveryRow
{
    public long MessageId { get; set; }

    public string UserName { get; set; } = "";
}
