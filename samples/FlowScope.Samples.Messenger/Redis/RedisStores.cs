using System.Text.Json;
using FlowScope.Samples.Messenger.Storage;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace FlowScope.Samples.Messenger.Redis;

internal static class RedisKeys
{
    public const string Prefix = "messenger:";
    public static readonly RedisKey Users = Prefix + "users";
    public static readonly RedisKey Rooms = Prefix + "rooms";
    public static readonly RedisKey MessageId = Prefix + "message-id";
    public static readonly RedisKey Stream = Prefix + "stream";

    public static RedisKey Members(string room) => $"{Prefix}room:{room}:members";

    public static RedisKey Messages(string room) => $"{Prefix}room:{room}:messages";

    public static RedisKey Delivered(long id) => $"{Prefix}delivered:{id}";

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
}

internal sealed class RedisUserStore(IConnectionMultiplexer redis) : IUserStore
{
    public string? System => "redis";

    private IDatabase Db => redis.GetDatabase();

    public Task<bool> TryAddAsync(UserAccount user) =>
        Db.HashSetAsync(RedisKeys.Users, user.UserName, JsonSerializer.Serialize(user, RedisKeys.Json), When.NotExists);

    public async Task AddManyAsync(IReadOnlyCollection<UserAccount> users)
    {
        var db = Db;
        await Task.WhenAll(users.Select(u => db.HashSetAsync(RedisKeys.Users, u.UserName, JsonSerializer.Serialize(u, RedisKeys.Json), When.NotExists)));
    }

    public async Task<UserAccount?> FindAsync(string userName)
    {
        var value = await Db.HashGetAsync(RedisKeys.Users, userName);
        return value.IsNullOrEmpty ? null : JsonSerializer.Deserialize<UserAccount>(value.ToString(), RedisKeys.Json);
    }

    public async Task<IReadOnlyList<string>> ListAsync() =>
        [.. (await Db.HashKeysAsync(RedisKeys.Users)).Select(k => k.ToString()).Order(StringComparer.Ordinal)];
}

internal sealed class RedisChatStore(IConnectionMultiplexer redis, IOptions<MessengerOptions> options) : IChatStore
{
    private static readonly TimeSpan ReceiptLifetime = TimeSpan.FromDays(1);

    public string? System => "redis";

    private IDatabase Db => redis.GetDatabase();

    public async Task<IReadOnlyList<RoomInfo>> RoomsAsync() =>
        [.. (await Db.HashValuesAsync(RedisKeys.Rooms)).Select(v => JsonSerializer.Deserialize<RoomInfo>(v.ToString(), RedisKeys.Json)!).OrderBy(r => r.Name, StringComparer.Ordinal)];

    public async Task<IReadOnlyList<RoomSummary>> RoomSummariesAsync(string user)
    {
        var db = Db;
        var rooms = await RoomsAsync();
        // Pipelined: one round trip for every room's members.
        var members = await Task.WhenAll(rooms.Select(r => db.SetMembersAsync(RedisKeys.Members(r.Name))));
        return [.. rooms.Select((r, i) => new RoomSummary(
            r.Name,
            r.Topic,
            members[i].Count(m => !AccountService.Reserved.Contains(m.ToString())),
            members[i].Any(m => m == user)))];
    }

    public async Task<RoomInfo?> FindRoomAsync(string name)
    {
        var value = await Db.HashGetAsync(RedisKeys.Rooms, name);
        return value.IsNullOrEmpty ? null : JsonSerializer.Deserialize<RoomInfo>(value.ToString(), RedisKeys.Json);
    }

    public Task<bool> TryCreateRoomAsync(RoomInfo room) =>
        Db.HashSetAsync(RedisKeys.Rooms, room.Name, JsonSerializer.Serialize(room, RedisKeys.Json), When.NotExists);

    public async Task CreateRoomsAsync(IReadOnlyCollection<RoomInfo> rooms)
    {
        var db = Db;
        await Task.WhenAll(rooms.Select(r => db.HashSetAsync(RedisKeys.Rooms, r.Name, JsonSerializer.Serialize(r, RedisKeys.Json), When.NotExists)));
    }

    public async Task JoinAllAsync(IReadOnlyCollection<string> rooms, IReadOnlyCollection<string> users)
    {
        var db = Db;
        foreach (var room in rooms)
        {
            if (await db.HashExistsAsync(RedisKeys.Rooms, room))
            {
                await db.SetAddAsync(RedisKeys.Members(room), [.. users.Select(u => (RedisValue)u)]);
            }
        }
    }

    public async Task<bool> JoinAsync(string room, string user)
    {
        if (!await Db.HashExistsAsync(RedisKeys.Rooms, room))
        {
            return false;
        }

        await Db.SetAddAsync(RedisKeys.Members(room), user);
        return true;
    }

    public async Task<IReadOnlyList<string>> MembersAsync(string room) =>
        [.. (await Db.SetMembersAsync(RedisKeys.Members(room))).Select(m => m.ToString()).Order(StringComparer.Ordinal)];

    public Task<bool> IsMemberAsync(string room, string user) => Db.SetContainsAsync(RedisKeys.Members(room), user);

    public async Task<ChatMessage> AppendAsync(string room, string author, string text, string? clientId, string? traceId)
    {
        var db = Db;
        var id = await db.StringIncrementAsync(RedisKeys.MessageId);
        var message = new ChatMessage(id, room, author, text, DateTimeOffset.UtcNow, clientId, traceId);
        var key = RedisKeys.Messages(room);
        await db.ListRightPushAsync(key, JsonSerializer.Serialize(message, RedisKeys.Json));
        await db.ListTrimAsync(key, -options.Value.HistoryPerRoom, -1);
        return message;
    }

    public async Task<IReadOnlyList<ChatMessage>> HistoryAsync(string room, long? before, int limit)
    {
        var db = Db;
        var all = (await db.ListRangeAsync(RedisKeys.Messages(room)))
            .Select(v => JsonSerializer.Deserialize<ChatMessage>(v.ToString(), RedisKeys.Json)!)
            .Where(m => before is null || m.Id < before)
            .ToList();
        var page = all.Skip(Math.Max(0, all.Count - limit)).ToList();
        var receipts = await Task.WhenAll(page.Select(m => db.SetMembersAsync(RedisKeys.Delivered(m.Id))));
        return [.. page.Select((m, i) => m with { DeliveredTo = [.. receipts[i].Select(r => r.ToString()).Order(StringComparer.Ordinal)] })];
    }

    public async Task RecordDeliveryAsync(string room, long messageId, IReadOnlyCollection<string> users)
    {
        var key = RedisKeys.Delivered(messageId);
        await Db.SetAddAsync(key, [.. users.Select(u => (RedisValue)u)]);
        await Db.KeyExpireAsync(key, ReceiptLifetime);
    }
}
