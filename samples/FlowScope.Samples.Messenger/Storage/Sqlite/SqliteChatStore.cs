using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace FlowScope.Samples.Messenger.Storage.Sqlite;

/// <summary>
/// Rooms, memberships, history and receipts in the SQLite database, through EF Core. Every method is a fixed,
/// small number of commands whatever the data (one or two), so no request of the sample issues one query per row —
/// except the room list's deliberate N+1 (see <c>RoomsController.List</c>).
/// </summary>
internal sealed class SqliteChatStore(IDbContextFactory<MessengerDb> contexts, IOptions<MessengerOptions> options, TimeProvider time) : IChatStore
{
    // History beyond the limit is trimmed every this many messages, not on every one.
    private const int TrimEvery = 32;

    private static readonly string[] Reserved = [.. AccountService.Reserved];

    public string? System => null;

    public async Task<IReadOnlyList<RoomInfo>> RoomsAsync()
    {
        await using var db = await contexts.CreateDbContextAsync();
        return await db.Rooms.AsNoTracking().OrderBy(r => r.Name).Select(r => new RoomInfo(r.Name, r.Topic, r.CreatedAt)).ToListAsync();
    }

    public async Task<IReadOnlyList<RoomSummary>> RoomSummariesAsync(string user)
    {
        await using var db = await contexts.CreateDbContextAsync();
        return await db.Rooms.AsNoTracking()
            .OrderBy(r => r.Name)
            .Select(r => new RoomSummary(
                r.Name,
                r.Topic,
                r.Members.Count(m => !Reserved.Contains(m.UserName)),
                r.Members.Any(m => m.UserName == user)))
            .ToListAsync();
    }

    public async Task<RoomInfo?> FindRoomAsync(string name)
    {
        await using var db = await contexts.CreateDbContextAsync();
        return await db.Rooms.AsNoTracking().Where(r => r.Name == name).Select(r => new RoomInfo(r.Name, r.Topic, r.CreatedAt)).SingleOrDefaultAsync();
    }

    public async Task<bool> TryCreateRoomAsync(RoomInfo room)
    {
        await using var db = await contexts.CreateDbContextAsync();
        var created = await db.Database.ExecuteSqlAsync(
            $"INSERT OR IGNORE INTO Rooms (Name, Topic, CreatedAt) VALUES ({room.Name}, {room.Topic}, {room.CreatedAt})");
        return created == 1;
    }

    public async Task CreateRoomsAsync(IReadOnlyCollection<RoomInfo> rooms)
    {
        await using var db = await contexts.CreateDbContextAsync();
        var rows = JsonSerializer.Serialize(rooms.Select(r => new[] { r.Name, r.Topic, SqliteText.Of(r.CreatedAt) }));
        await db.Database.ExecuteSqlAsync(
            $"INSERT OR IGNORE INTO Rooms (Name, Topic, CreatedAt) SELECT value ->> 0, value ->> 1, value ->> 2 FROM json_each({rows})");
    }

    public async Task JoinAllAsync(IReadOnlyCollection<string> rooms, IReadOnlyCollection<string> users)
    {
        await using var db = await contexts.CreateDbContextAsync();
        var roomNames = JsonSerializer.Serialize(rooms);
        var userNames = JsonSerializer.Serialize(users);
        await db.Database.ExecuteSqlAsync(
            $"INSERT OR IGNORE INTO Members (Room, UserName) SELECT r.Name, u.value FROM Rooms AS r JOIN json_each({roomNames}) AS x ON x.value = r.Name CROSS JOIN json_each({userNames}) AS u");
    }

    public async Task<bool> JoinAsync(string room, string user)
    {
        await using var db = await contexts.CreateDbContextAsync();
        if (!await db.Rooms.AnyAsync(r => r.Name == room))
        {
            return false;
        }

        await db.Database.ExecuteSqlAsync($"INSERT OR IGNORE INTO Members (Room, UserName) VALUES ({room}, {user})");
        return true;
    }

    public async Task<IReadOnlyList<string>> MembersAsync(string room)
    {
        await using var db = await contexts.CreateDbContextAsync();
        return await db.Members.AsNoTracking().Where(m => m.Room == room).OrderBy(m => m.UserName).Select(m => m.UserName).ToListAsync();
    }

    public async Task<bool> IsMemberAsync(string room, string user)
    {
        await using var db = await contexts.CreateDbContextAsync();
        return await db.Members.AnyAsync(m => m.Room == room && m.UserName == user);
    }

    public async Task<ChatMessage> AppendAsync(string room, string author, string text, string? clientId, string? traceId)
    {
        await using var db = await contexts.CreateDbContextAsync();
        var row = new MessageRow { Room = room, Author = author, Text = text, SentAt = time.GetUtcNow(), ClientId = clientId, TraceId = traceId };
        db.Messages.Add(row);
        await db.SaveChangesAsync();
        if (row.Id % TrimEvery == 0)
        {
            await TrimAsync(db, room);
        }

        return new ChatMessage(row.Id, row.Room, row.Author, row.Text, row.SentAt, row.ClientId, row.TraceId);
    }

    public async Task<IReadOnlyList<ChatMessage>> HistoryAsync(string room, long? before, int limit)
    {
        await using var db = await contexts.CreateDbContextAsync();
        var newest = await db.Messages.AsNoTracking()
            .Where(m => m.Room == room && (before == null || m.Id < before))
            .OrderByDescending(m => m.Id)
            .Take(limit)
            .Select(m => new
            {
                m.Id,
                m.Room,
                m.Author,
                m.Text,
                m.SentAt,
                m.ClientId,
                m.TraceId,
                // Loaded with the messages, in the same command.
                DeliveredTo = m.Deliveries.OrderBy(d => d.UserName).Select(d => d.UserName).ToList(),
            })
            .ToListAsync();
        newest.Reverse();
        return [.. newest.Select(m => new ChatMessage(m.Id, m.Room, m.Author, m.Text, m.SentAt, m.ClientId, m.TraceId) { DeliveredTo = m.DeliveredTo })];
    }

    public async Task RecordDeliveryAsync(string room, long messageId, IReadOnlyCollection<string> users)
    {
        await using var db = await contexts.CreateDbContextAsync();
        // Every receipt of the message in one statement (the users as one JSON array), whatever the room's size.
        var names = JsonSerializer.Serialize(users);
        await db.Database.ExecuteSqlAsync(
            $"INSERT OR IGNORE INTO Deliveries (MessageId, UserName) SELECT {messageId}, value FROM json_each({names})");
    }

    private async Task TrimAsync(MessengerDb db, string room)
    {
        var keep = options.Value.HistoryPerRoom;
        var oldestKept = await db.Messages.Where(m => m.Room == room).OrderByDescending(m => m.Id).Skip(keep - 1).Select(m => (long?)m.Id).FirstOrDefaultAsync();
        if (oldestKept is { } id)
        {
            // Receipts go with their messages (ON DELETE CASCADE).
            await db.Messages.Where(m => m.Room == room && m.Id < id).ExecuteDeleteAsync();
        }
    }
}
