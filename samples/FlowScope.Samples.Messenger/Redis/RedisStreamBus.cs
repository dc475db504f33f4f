using System.Diagnostics;
using System.Text.Json;
using FlowScope.Embedded.Queues;
using FlowScope.Samples.Messenger.Pipeline;
using StackExchange.Redis;

namespace FlowScope.Samples.Messenger.Redis;

/// <summary>
/// Publishes messages to the Redis stream <c>messenger:stream</c>. The entry carries the producer span's trace
/// context (<c>traceparent</c>, <c>tracestate</c>, <c>flowscope-enqueued-at</c>), so every instance's consumer
/// continues the message's trace.
/// </summary>
internal sealed class RedisStreamBus(IConnectionMultiplexer redis) : IMessageBus
{
    public const string PayloadField = "payload";
    private const int MaxLength = 10_000;

    public string System => "redis";

    public async ValueTask PublishAsync(ChatEvent chatEvent, CancellationToken cancellationToken)
    {
        using var send = QueueTracing.StartSend("redis", RedisKeys.Stream.ToString());
        var fields = new List<NameValueEntry> { new(PayloadField, JsonSerializer.Serialize(chatEvent, RedisKeys.Json)) };
        send.Context.Inject(fields, static (list, key, value) => list.Add(new NameValueEntry(key, value)));
        try
        {
            var id = await redis.GetDatabase().StreamAddAsync(RedisKeys.Stream, [.. fields], maxLength: MaxLength, useApproximateMaxLength: true)
                .WaitAsync(cancellationToken);
            send.Activity?.SetTag("messaging.message.id", id.ToString());
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            send.Fail(ex);
            throw new InvalidOperationException("The message could not be written to the Redis stream.", ex);
        }
    }
}

/// <summary>
/// Reads the stream in a consumer group of this instance's own (<c>delivery:{instance}</c>), so every instance gets
/// every message and delivers it to its own sockets; each entry is processed in a consumer span whose parent is the
/// producer span the entry carries, then acknowledged. The group is removed when the instance stops.
/// </summary>
internal sealed partial class RedisStreamConsumer(
    IConnectionMultiplexer redis,
    DeliveryService delivery,
    InstanceInfo instance,
    ILogger<RedisStreamConsumer> logger) : BackgroundService
{
    private static readonly TimeSpan IdleDelay = TimeSpan.FromMilliseconds(25);

    private string Group => "delivery:" + instance.Id;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        // Created before the app takes traffic, from "now": the instance delivers what is published after it started.
        try
        {
            await redis.GetDatabase().StreamCreateConsumerGroupAsync(RedisKeys.Stream, Group, StreamPosition.NewMessages, createStream: true);
        }
        catch (RedisServerException ex) when (ex.Message.Contains("BUSYGROUP", StringComparison.Ordinal))
        {
        }

        await base.StartAsync(cancellationToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        try
        {
            await redis.GetDatabase().StreamDeleteConsumerGroupAsync(RedisKeys.Stream, Group);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            LogCleanupFailed(logger, ex, Group);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        Activity.Current = null;
        var db = redis.GetDatabase();
        while (!stoppingToken.IsCancellationRequested)
        {
            StreamEntry[] entries;
            try
            {
                entries = await db.StreamReadGroupAsync(RedisKeys.Stream, Group, instance.Id, StreamPosition.NewMessages, count: 64);
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                LogReadFailed(logger, ex);
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken);
                continue;
            }

            if (entries.Length == 0)
            {
                await Task.Delay(IdleDelay, stoppingToken);
                continue;
            }

            foreach (var entry in entries)
            {
                await ProcessAsync(db, entry, stoppingToken);
            }
        }
    }

    private async Task ProcessAsync(IDatabase db, StreamEntry entry, CancellationToken cancellationToken)
    {
        var context = QueueTraceContext.Extract(entry, static (e, key) => e[key] is { IsNull: false } v ? v.ToString() : null);
        using (var process = QueueTracing.StartProcess("redis", RedisKeys.Stream.ToString(), context, entry.Id.ToString()))
        {
            process.Activity?.SetTag("messaging.consumer.group.name", Group);
            try
            {
                var chatEvent = JsonSerializer.Deserialize<ChatEvent>(entry[RedisStreamBus.PayloadField].ToString(), RedisKeys.Json)
                    ?? throw new JsonException("The entry has no payload.");
                await delivery.DeliverAsync(chatEvent, cancellationToken);
                process.Complete();
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Delivery is best effort: the message is in the history; a bad entry must not block the stream.
                process.Fail(ex, QueueOutcome.Failed);
                LogEntryFailed(logger, ex, entry.Id.ToString());
            }
        }

        await db.StreamAcknowledgeAsync(RedisKeys.Stream, Group, entry.Id);
    }

    [LoggerMessage(EventId = 50, Level = LogLevel.Warning, Message = "Reading the Redis stream failed; retrying in a second")]
    private static partial void LogReadFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 51, Level = LogLevel.Warning, Message = "Stream entry {EntryId} could not be delivered")]
    private static partial void LogEntryFailed(ILogger logger, Exception exception, string entryId);

    [LoggerMessage(EventId = 52, Level = LogLevel.Warning, Message = "Could not remove consumer group {Group}")]
    private static partial void LogCleanupFailed(ILogger logger, Exception exception, string group);
}
