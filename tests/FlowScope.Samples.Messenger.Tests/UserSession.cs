using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;

namespace FlowScope.Samples.Messenger.Tests;

/// <summary>A signed-in user: an HTTP client with the auth cookie, and any number of live sockets.</summary>
internal sealed class UserSession : IAsyncDisposable
{
    private readonly List<LiveSocket> _sockets = [];

    public UserSession(MessengerHost host, string userName)
    {
        Host = host;
        UserName = userName;
        Cookies = new CookieContainer();
        var handler = new HttpClientHandler { CookieContainer = Cookies };
        Http = new HttpClient(host.Capture is { } capture ? capture.CreateHandler(handler) : handler) { BaseAddress = host.Address };
    }

    public MessengerHost Host { get; }

    public string UserName { get; }

    public CookieContainer Cookies { get; }

    public HttpClient Http { get; }

    public async Task<LiveSocket> ConnectAsync()
    {
        var client = new ClientWebSocket();
        client.Options.Cookies = Cookies;
        await client.ConnectAsync(Host.SocketUri, CancellationToken.None);
        var socket = new LiveSocket(client);
        _sockets.Add(socket);
        await socket.NextAsync(f => f.Type == "hello");
        return socket;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var socket in _sockets)
        {
            await socket.DisposeAsync();
        }

        Http.Dispose();
    }
}

/// <summary>A frame received from the server.</summary>
internal sealed record Frame(JsonElement Json)
{
    public string Type => Json.GetProperty("type").GetString()!;

    public string? this[string property] => Json.TryGetProperty(property, out var v) ? v.ValueKind == JsonValueKind.String ? v.GetString() : v.GetRawText() : null;

    public override string ToString() => Json.GetRawText();
}

/// <summary>A client WebSocket whose incoming frames are read in the background and awaited by predicate.</summary>
internal sealed class LiveSocket : IAsyncDisposable
{
    private readonly Channel<Frame> _frames = Channel.CreateUnbounded<Frame>();
    private readonly List<Frame> _skipped = [];
    private readonly Task _reader;

    public LiveSocket(ClientWebSocket socket)
    {
        Socket = socket;
        _reader = Task.Run(ReadAsync);
    }

    public ClientWebSocket Socket { get; }

    /// <summary>Frames passed over by <see cref="NextAsync"/> (kept for later waits and for failure messages).</summary>
    public IReadOnlyList<Frame> Skipped => _skipped;

    public Task SendJsonAsync(object frame) => SendTextAsync(JsonSerializer.Serialize(frame));

    public Task SendTextAsync(string text) =>
        Socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, CancellationToken.None);

    public Task SendAsync(object frame) => SendJsonAsync(frame);

    /// <summary>The first frame (skipped earlier or arriving within the timeout) that matches.</summary>
    public async Task<Frame> NextAsync(Func<Frame, bool> match, TimeSpan? timeout = null)
    {
        var earlier = _skipped.FirstOrDefault(match);
        if (earlier is not null)
        {
            _skipped.Remove(earlier);
            return earlier;
        }

        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        try
        {
            while (true)
            {
                var frame = await _frames.Reader.ReadAsync(cts.Token);
                if (match(frame))
                {
                    return frame;
                }

                _skipped.Add(frame);
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"No matching frame. Socket state {Socket.State}; frames seen: {string.Join(" ", _skipped)}");
        }
        catch (ChannelClosedException)
        {
            throw new InvalidOperationException($"The socket closed ({Socket.CloseStatus} {Socket.CloseStatusDescription}); frames seen: {string.Join(" ", _skipped)}");
        }
    }

    /// <summary>Every frame received so far or within <paramref name="window"/> that matches (bounded wait for a known count).</summary>
    public async Task<List<Frame>> CollectAsync(Func<Frame, bool> match, int count, TimeSpan? timeout = null)
    {
        var found = new List<Frame>();
        while (found.Count < count)
        {
            found.Add(await NextAsync(match, timeout));
        }

        return found;
    }

    private async Task ReadAsync()
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (Socket.State == WebSocketState.Open)
            {
                using var message = new MemoryStream();
                WebSocketReceiveResult result;
                do
                {
                    result = await Socket.ReceiveAsync(buffer, CancellationToken.None);
                    message.Write(buffer, 0, result.Count);
                }
                while (!result.EndOfMessage);

                if (result.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }

                using var doc = JsonDocument.Parse(message.ToArray());
                await _frames.Writer.WriteAsync(new Frame(doc.RootElement.Clone()));
            }
        }
        catch (WebSocketException)
        {
        }
        finally
        {
            _frames.Writer.TryComplete();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Socket.State == WebSocketState.Open)
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            try
            {
                await Socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", cts.Token);
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
            {
            }
        }

        Socket.Abort();
        await _reader.WaitAsync(TimeSpan.FromSeconds(5));
        Socket.Dispose();
    }
}
