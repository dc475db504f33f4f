using System.Buffers;
using System.Diagnostics;
using System.Net.WebSockets;
using System.Text.Json;
using System.Threading.RateLimiting;
using FlowScope.Samples.Messenger.Infrastructure;
using FlowScope.Samples.Messenger.Pipeline;
using FlowScope.Samples.Messenger.Storage;
using Microsoft.Extensions.Options;

namespace FlowScope.Samples.Messenger.Realtime;

/// <summary>
/// <c>GET /ws</c>: the live channel of a signed-in user. Each <c>send</c> frame becomes a trace of its own
/// (<c>receive message</c> → validate → store → queue → delivery); typing and ping frames are answered without one.
/// Bad frames (too large, not JSON, unknown type or room, floods) get an <c>error</c> frame and the connection stays open.
/// </summary>
internal static partial class SocketEndpoint
{
    public const string Path = "/ws";

    public static IEndpointConventionBuilder MapMessengerSocket(this IEndpointRouteBuilder endpoints) =>
        endpoints.Map(Path, HandleAsync).RequireAuthorization();

    private static async Task HandleAsync(
        HttpContext context,
        ConnectionRegistry connections,
        MessageIntake intake,
        IChatStore store,
        IOptions<MessengerOptions> options,
        ILoggerFactory loggers)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            await Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "WebSocket expected",
                detail: $"{Path} only accepts WebSocket upgrade requests.").ExecuteAsync(context);
            return;
        }

        // A browser page of another site must not ride the user's cookie (cross-site WebSocket hijacking).
        var origin = context.Request.Headers.Origin.ToString();
        if (origin.Length > 0 && (!Uri.TryCreate(origin, UriKind.Absolute, out var originUri)
            || !string.Equals(originUri.Authority, context.Request.Host.Value, StringComparison.OrdinalIgnoreCase)))
        {
            await Results.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Cross-origin socket refused",
                detail: "The socket must be opened by a page of this site.").ExecuteAsync(context);
            return;
        }

        var settings = options.Value;
        var user = context.User.Identity!.Name!;
        if (connections.Of(user).Count >= settings.MaxConnectionsPerUser)
        {
            await Results.Problem(statusCode: StatusCodes.Status429TooManyRequests, title: "Too many connections",
                detail: $"A user may have {settings.MaxConnectionsPerUser} open connections.").ExecuteAsync(context);
            return;
        }

        var logger = loggers.CreateLogger("FlowScope.Samples.Messenger.Socket");
        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        using var connection = new ClientConnection(user, socket, Activity.Current?.Context ?? default);
        if (!connections.TryAdd(connection, settings.MaxConnectionsPerUser, out var first))
        {
            await socket.CloseAsync(WebSocketCloseStatus.PolicyViolation, "too many connections", CancellationToken.None);
            return;
        }

        LogConnected(logger, user, connection.Id);
        using var limiter = new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = settings.SocketBurst,
            TokensPerPeriod = settings.SocketMessagesPerSecond,
            ReplenishmentPeriod = TimeSpan.FromSeconds(1),
            QueueLimit = 0,
            AutoReplenishment = true,
        });
        var session = new Session(connection, connections, intake, store, settings, limiter, logger);
        try
        {
            await connection.SendAsync(Frames.Hello(user, connections.OnlineUsers(), settings.MaxMessageLength, settings.MaxFrameBytes), settings.SocketSendTimeout);
            if (first)
            {
                await Broadcast(connections, Frames.Presence(user, online: true), settings.SocketSendTimeout, except: connection);
            }

            await session.ReceiveLoopAsync(context.RequestAborted);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
            // The client went away; nothing to answer.
        }
        finally
        {
            connections.Remove(connection, out var last);
            if (last)
            {
                await Broadcast(connections, Frames.Presence(user, online: false), settings.SocketSendTimeout, except: null);
            }

            LogDisconnected(logger, user, connection.Id);
        }
    }

    internal static Task Broadcast(ConnectionRegistry connections, byte[] frame, TimeSpan timeout, ClientConnection? except) =>
        Task.WhenAll(connections.All().Where(c => c != except).Select(c => c.SendAsync(frame, timeout)));

    private sealed class Session(
        ClientConnection connection,
        ConnectionRegistry connections,
        MessageIntake intake,
        IChatStore store,
        MessengerOptions settings,
        RateLimiter limiter,
        ILogger logger)
    {
        private long _lastTypingTicks;

        public async Task ReceiveLoopAsync(CancellationToken cancellationToken)
        {
            var socket = connection.Socket;
            var buffer = ArrayPool<byte>.Shared.Rent(settings.MaxFrameBytes);
            try
            {
                while (socket.State == WebSocketState.Open)
                {
                    var length = 0;
                    var tooLarge = false;
                    ValueWebSocketReceiveResult result;
                    do
                    {
                        // Past the limit the rest of the frame is read into the same buffer and thrown away.
                        var target = tooLarge ? buffer.AsMemory(0, settings.MaxFrameBytes) : buffer.AsMemory(length, settings.MaxFrameBytes - length);
                        if (!tooLarge && target.Length == 0)
                        {
                            tooLarge = true;
                            target = buffer.AsMemory(0, settings.MaxFrameBytes);
                        }

                        result = await socket.ReceiveAsync(target, cancellationToken);
                        if (!tooLarge)
                        {
                            length += result.Count;
                        }
                    }
                    while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close);

                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
                        return;
                    }

                    if (tooLarge)
                    {
                        await Reply(Frames.Error(ErrorCodes.TooLarge, $"A frame is at most {settings.MaxFrameBytes} bytes."));
                    }
                    else if (result.MessageType == WebSocketMessageType.Binary)
                    {
                        await Reply(Frames.Error(ErrorCodes.Unsupported, "Send JSON text frames."));
                    }
                    else
                    {
                        await HandleFrameAsync(buffer.AsMemory(0, length), cancellationToken);
                    }
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        private async Task HandleFrameAsync(ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
        {
            InboundFrame? frame;
            try
            {
                frame = JsonSerializer.Deserialize<InboundFrame>(payload.Span, Frames.Json);
            }
            catch (JsonException)
            {
                frame = null;
            }

            if (frame is null)
            {
                await Reply(Frames.Error(ErrorCodes.Malformed, "A frame is a JSON object such as {\"type\":\"send\",\"room\":\"general\",\"text\":\"hi\"}."));
                return;
            }

            try
            {
                switch (frame.Type)
                {
                    case "send":
                        await HandleSendAsync(frame, cancellationToken);
                        break;
                    case "typing":
                        await HandleTypingAsync(frame);
                        break;
                    case "ping":
                        await Reply(Frames.Pong());
                        break;
                    default:
                        await Reply(Frames.Error(ErrorCodes.UnknownType, "Known frame types: send, typing, ping.", frame.ClientId));
                        break;
                }
            }
            catch (Exception ex) when (ex is not (OperationCanceledException or WebSocketException))
            {
                // A failing dependency (for example Redis) costs this frame, not the connection.
                LogFrameFailed(logger, ex, connection.User, frame.Type);
                await Reply(Frames.Error(ErrorCodes.Internal, "The server could not handle this frame; try again.", frame.ClientId));
            }
        }

        private async Task HandleSendAsync(InboundFrame frame, CancellationToken cancellationToken)
        {
            using var lease = limiter.AttemptAcquire();
            if (!lease.IsAcquired)
            {
                await Reply(Frames.Error(ErrorCodes.RateLimited, $"Slow down: at most {settings.SocketMessagesPerSecond} messages per second. This message was not sent.", frame.ClientId));
                return;
            }

            using var span = MessengerTelemetry.StartReceive("receive message", connection.ConnectionSpan);
            span?.SetTag("messenger.user", connection.User);
            span?.SetTag("messenger.room", frame.Room);
            span?.SetTag("messenger.connection", connection.Id.ToString("N"));
            IntakeResult result;
            try
            {
                result = await intake.AcceptAsync(connection.User, frame.Room, frame.Text, frame.ClientId, system: false, cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                span?.AddException(ex);
                span.Fail(ErrorCodes.Internal, ex.Message);
                throw;
            }

            if (result.Message is { } message)
            {
                await Reply(Frames.Ack(message));
            }

            if (result.ErrorCode is { } code)
            {
                LogRejected(logger, connection.User, code);
                await Reply(Frames.Error(code, result.Error!, frame.ClientId));
            }
        }

        private async Task HandleTypingAsync(InboundFrame frame)
        {
            // At most one typing signal per user and second; unknown rooms are ignored quietly (no trace, no reply).
            var now = Environment.TickCount64;
            if (now - _lastTypingTicks < 1_000 || !Names.IsRoomName(frame.Room) || !await store.IsMemberAsync(frame.Room!, connection.User))
            {
                return;
            }

            _lastTypingTicks = now;
            var typing = Frames.Typing(frame.Room!, connection.User);
            var members = await store.MembersAsync(frame.Room!);
            await Task.WhenAll(members.Where(m => m != connection.User)
                .SelectMany(connections.Of)
                .Select(c => c.SendAsync(typing, settings.SocketSendTimeout)));
        }

        private Task<bool> Reply(byte[] frame) => connection.SendAsync(frame, settings.SocketSendTimeout);
    }

    [LoggerMessage(EventId = 30, Level = LogLevel.Information, Message = "{User} connected ({Connection})")]
    private static partial void LogConnected(ILogger logger, string user, Guid connection);

    [LoggerMessage(EventId = 31, Level = LogLevel.Information, Message = "{User} disconnected ({Connection})")]
    private static partial void LogDisconnected(ILogger logger, string user, Guid connection);

    [LoggerMessage(EventId = 33, Level = LogLevel.Error, Message = "A {Type} frame from {User} failed")]
    private static partial void LogFrameFailed(ILogger logger, Exception exception, string user, string? type);

    [LoggerMessage(EventId = 32, Level = LogLevel.Information, Message = "A message from {User} was refused: {Code}")]
    private static partial void LogRejected(ILogger logger, string user, string code);
}
