using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.WebSockets;

namespace FlowScope.Samples.Messenger.Realtime;

/// <summary>One open WebSocket of a signed-in user. Sends are serialized (a WebSocket allows one send at a time) and bounded in time.</summary>
internal sealed class ClientConnection(string user, WebSocket socket, ActivityContext connectionSpan) : IDisposable
{
    private readonly SemaphoreSlim _sendLock = new(1, 1);

    public Guid Id { get; } = Guid.NewGuid();

    public string User { get; } = user;

    public WebSocket Socket { get; } = socket;

    /// <summary>The span of the HTTP request that opened the socket; message traces link to it.</summary>
    public ActivityContext ConnectionSpan { get; } = connectionSpan;

    /// <summary>Sends one text frame; <see langword="false"/> (and the socket aborted) when it fails or takes longer than <paramref name="timeout"/>.</summary>
    public async Task<bool> SendAsync(ReadOnlyMemory<byte> frame, TimeSpan timeout)
    {
        if (Socket.State != WebSocketState.Open)
        {
            return false;
        }

        using var cts = new CancellationTokenSource(timeout);
        var locked = false;
        try
        {
            await _sendLock.WaitAsync(cts.Token);
            locked = true;
            await Socket.SendAsync(frame, WebSocketMessageType.Text, endOfMessage: true, cts.Token);
            return true;
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or ObjectDisposedException or InvalidOperationException)
        {
            // A client that cannot keep up (or went away) loses its connection, not everybody else's time.
            Socket.Abort();
            return false;
        }
        finally
        {
            if (locked)
            {
                _sendLock.Release();
            }
        }
    }

    public void Dispose() => _sendLock.Dispose();
}

/// <summary>Who is connected, with which sockets. Presence is "has at least one open socket on this instance".</summary>
internal sealed class ConnectionRegistry
{
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<Guid, ClientConnection>> _byUser = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    /// <summary>Raised after a connection was added or removed.</summary>
    public event Action? Changed;

    /// <summary>Adds a connection unless the user already has <paramref name="maxPerUser"/>.</summary>
    public bool TryAdd(ClientConnection connection, int maxPerUser, out bool firstOfUser)
    {
        lock (_lock)
        {
            var sockets = _byUser.GetOrAdd(connection.User, _ => new ConcurrentDictionary<Guid, ClientConnection>());
            firstOfUser = sockets.IsEmpty;
            if (sockets.Count >= maxPerUser)
            {
                return false;
            }

            sockets[connection.Id] = connection;
        }

        Changed?.Invoke();
        return true;
    }

    /// <summary>Removes a connection; <paramref name="lastOfUser"/> tells whether the user just went offline.</summary>
    public void Remove(ClientConnection connection, out bool lastOfUser)
    {
        lock (_lock)
        {
            lastOfUser = false;
            if (_byUser.TryGetValue(connection.User, out var sockets) && sockets.TryRemove(connection.Id, out _) && sockets.IsEmpty)
            {
                _byUser.TryRemove(connection.User, out _);
                lastOfUser = true;
            }
        }

        Changed?.Invoke();
    }

    public IReadOnlyList<ClientConnection> Of(string user) =>
        _byUser.TryGetValue(user, out var sockets) ? [.. sockets.Values] : [];

    public bool IsOnline(string user) => _byUser.TryGetValue(user, out var sockets) && !sockets.IsEmpty;

    public IReadOnlyList<string> OnlineUsers() => [.. _byUser.Where(p => !p.Value.IsEmpty).Select(p => p.Key).Order(StringComparer.Ordinal)];

    public IEnumerable<ClientConnection> All() => _byUser.Values.SelectMany(s => s.Values);

    public int Count => _byUser.Values.Sum(s => s.Count);
}
