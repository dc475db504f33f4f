using System.Collections.Concurrent;

namespace FlowScope.Samples.Messenger;

/// <summary>A message as a client sends it.</summary>
internal sealed record NewMessage(string Author, string Text);

/// <summary>A stored message.</summary>
internal sealed record ChatMessage(long Id, string Room, string Author, string Text, DateTimeOffset SentAt);

/// <summary>Rooms and their recent messages, in memory.</summary>
internal sealed class RoomStore(TimeProvider time)
{
    private const int MessagesPerRoom = 200;
    private readonly ConcurrentDictionary<string, ConcurrentQueue<ChatMessage>> _rooms = new(
        new[] { "general", "random", "dev" }.Select(r => KeyValuePair.Create(r, new ConcurrentQueue<ChatMessage>())));
    private long _nextId;

    public IEnumerable<string> Rooms() => _rooms.Keys.Order();

    public bool TryGetMessages(string room, out ChatMessage[] messages)
    {
        messages = _rooms.TryGetValue(room, out var queue) ? [.. queue] : [];
        return queue is not null;
    }

    public async Task<ChatMessage?> AddAsync(string room, NewMessage message, CancellationToken cancellationToken)
    {
        if (!_rooms.TryGetValue(room, out var queue))
        {
            return null;
        }

        // Stands in for a database write.
        await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(1, 5)), time, cancellationToken);
        var stored = new ChatMessage(Interlocked.Increment(ref _nextId), room, message.Author.Trim(), message.Text, time.GetUtcNow());
        queue.Enqueue(stored);
        while (queue.Count > MessagesPerRoom && queue.TryDequeue(out _))
        {
        }

        return stored;
    }
}
