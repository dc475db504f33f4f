using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace FlowScope.Samples.Messenger.Storage;

internal sealed class InMemoryUserStore : IUserStore
{
    private readonly ConcurrentDictionary<string, UserAccount> _users = new(StringComparer.Ordinal);

    public string System => "memory";

    public Task<bool> TryAddAsync(UserAccount user) => Task.FromResult(_users.TryAdd(user.UserName, user));

    public Task<UserAccount?> FindAsync(string userName) =>
        Task.FromResult(_users.TryGetValue(userName, out var user) ? user : null);

    public Task<IReadOnlyList<string>> ListAsync() =>
        Task.FromResult<IReadOnlyList<string>>([.. _users.Keys.Order(StringComparer.Ordinal)]);
}

internal sealed class InMemoryChatStore : IChatStore
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Room> _rooms = new(StringComparer.Ordinal);
    private readonly int _historyPerRoom;
    private readonly TimeProvider _time;
    private long _nextId;

    public InMemoryChatStore(IOptions<MessengerOptions> options, TimeProvider time)
    {
        _historyPerRoom = options.Value.HistoryPerRoom;
        _time = time;
    }

    public string System => "memory";

    public Task<IReadOnlyList<RoomInfo>> RoomsAsync()
    {
        lock (_lock)
        {
            return Task.FromResult<IReadOnlyList<RoomInfo>>([.. _rooms.Values.Select(r => r.Info).OrderBy(r => r.Name, StringComparer.Ordinal)]);
        }
    }

    public Task<RoomInfo?> FindRoomAsync(string name)
    {
        lock (_lock)
        {
            return Task.FromResult(_rooms.TryGetValue(name, out var room) ? room.Info : null);
        }
    }

    public Task<bool> TryCreateRoomAsync(RoomInfo room)
    {
        lock (_lock)
        {
            return Task.FromResult(_rooms.TryAdd(room.Name, new Room(room)));
        }
    }

    public Task<bool> JoinAsync(string room, string user)
    {
        lock (_lock)
        {
            if (!_rooms.TryGetValue(room, out var r))
            {
                return Task.FromResult(false);
            }

            r.Members.Add(user);
            return Task.FromResult(true);
        }
    }

    public Task<IReadOnlyList<string>> MembersAsync(string room)
    {
        lock (_lock)
        {
            return Task.FromResult<IReadOnlyList<string>>(_rooms.TryGetValue(room, out var r) ? [.. r.Members.Order(StringComparer.Ordinal)] : []);
        }
    }

    public Task<bool> IsMemberAsync(string room, string user)
    {
        lock (_lock)
        {
            return Task.FromResult(_rooms.TryGetValue(room, out var r) && r.Members.Contains(user));
        }
    }

    public Task<ChatMessage> AppendAsync(string room, string author, string text, string? clientId, string? traceId)
    {
        lock (_lock)
        {
            if (!_rooms.TryGetValue(room, out var r))
            {
                throw new InvalidOperationException($"There is no room '{room}'.");
            }

            var message = new ChatMessage(++_nextId, room, author, text, _time.GetUtcNow(), clientId, traceId);
            r.Messages.AddLast(message);
            while (r.Messages.Count > _historyPerRoom)
            {
                r.Messages.RemoveFirst();
            }

            return Task.FromResult(message);
        }
    }

    public Task<IReadOnlyList<ChatMessage>> HistoryAsync(string room, long? before, int limit)
    {
        lock (_lock)
        {
            if (!_rooms.TryGetValue(room, out var r))
            {
                return Task.FromResult<IReadOnlyList<ChatMessage>>([]);
            }

            var result = new List<ChatMessage>(limit);
            for (var node = r.Messages.Last; node is not null && result.Count < limit; node = node.Previous)
            {
                if (before is null || node.Value.Id < before)
                {
                    result.Add(node.Value with { DeliveredTo = r.Delivered.TryGetValue(node.Value.Id, out var d) ? [.. d.Order(StringComparer.Ordinal)] : [] });
                }
            }

            result.Reverse();
            return Task.FromResult<IReadOnlyList<ChatMessage>>(result);
        }
    }

    public Task RecordDeliveryAsync(string room, long messageId, IReadOnlyCollection<string> users)
    {
        lock (_lock)
        {
            if (_rooms.TryGetValue(room, out var r))
            {
                if (!r.Delivered.TryGetValue(messageId, out var set))
                {
                    set = new HashSet<string>(StringComparer.Ordinal);
                    r.Delivered[messageId] = set;
                }

                set.UnionWith(users);
                // Receipts are only kept for messages still in the history.
                if (r.Delivered.Count > _historyPerRoom * 2 && r.Messages.First is { } oldest)
                {
                    foreach (var id in r.Delivered.Keys.Where(id => id < oldest.Value.Id).ToList())
                    {
                        r.Delivered.Remove(id);
                    }
                }
            }
        }

        return Task.CompletedTask;
    }

    private sealed class Room(RoomInfo info)
    {
        public RoomInfo Info { get; } = info;

        public HashSet<string> Members { get; } = new(StringComparer.Ordinal);

        public LinkedList<ChatMessage> Messages { get; } = new();

        public Dictionary<long, HashSet<string>> Delivered { get; } = [];
    }
}
