using FlowScope.Samples.Messenger.Pipeline;
using FlowScope.Samples.Messenger.Realtime;
using StackExchange.Redis;

namespace FlowScope.Samples.Messenger.Redis;

/// <summary>
/// Shares presence between instances: each instance writes the users connected to it into
/// <c>messenger:presence:{instance}</c> (right after a change, and every few seconds) with a short expiry, so an
/// instance that dies stops counting by itself. The delivery worker asks it who is offline everywhere before
/// queueing notifications.
/// </summary>
internal sealed partial class RedisPresence : BackgroundService, IPresenceDirectory
{
    private static readonly TimeSpan Refresh = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(15);
    private static readonly RedisKey Instances = RedisKeys.Prefix + "instances";

    private readonly IConnectionMultiplexer _redis;
    private readonly ConnectionRegistry _connections;
    private readonly InstanceInfo _instance;
    private readonly ILogger<RedisPresence> _logger;
    private readonly SemaphoreSlim _changed = new(0, 1);

    public RedisPresence(IConnectionMultiplexer redis, ConnectionRegistry connections, InstanceInfo instance, ILogger<RedisPresence> logger)
    {
        _redis = redis;
        _connections = connections;
        _instance = instance;
        _logger = logger;
        connections.Changed += Signal;
    }

    private RedisKey Key => KeyOf(_instance.Id);

    private static RedisKey KeyOf(string instance) => $"{RedisKeys.Prefix}presence:{instance}";

    public async Task<IReadOnlySet<string>> OnlineAsync(IEnumerable<string> users)
    {
        var online = new HashSet<string>(StringComparer.Ordinal);
        var remaining = new List<RedisValue>();
        foreach (var user in users)
        {
            if (_connections.IsOnline(user))
            {
                online.Add(user);
            }
            else
            {
                remaining.Add(user);
            }
        }

        if (remaining.Count == 0)
        {
            return online;
        }

        try
        {
            var db = _redis.GetDatabase();
            foreach (var other in await db.SetMembersAsync(Instances))
            {
                if (other == _instance.Id)
                {
                    continue;
                }

                var key = KeyOf(other.ToString());
                var values = await db.HashGetAsync(key, [.. remaining]);
                if (values.All(v => v.IsNull) && !await db.KeyExistsAsync(key))
                {
                    await db.SetRemoveAsync(Instances, other); // an instance that stopped refreshing
                    continue;
                }

                for (var i = 0; i < values.Length; i++)
                {
                    if (!values[i].IsNull)
                    {
                        online.Add(remaining[i].ToString());
                    }
                }
            }
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            LogFailed(_logger, ex);
        }

        return online;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await PublishAsync();
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                LogFailed(_logger, ex);
            }

            try
            {
                await _changed.WaitAsync(Refresh, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        _connections.Changed -= Signal;
        await base.StopAsync(cancellationToken);
        try
        {
            var db = _redis.GetDatabase();
            await db.KeyDeleteAsync(Key);
            await db.SetRemoveAsync(Instances, _instance.Id);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            LogFailed(_logger, ex);
        }
    }

    public override void Dispose()
    {
        _changed.Dispose();
        base.Dispose();
    }

    private void Signal()
    {
        try
        {
            _changed.Release();
        }
        catch (SemaphoreFullException)
        {
            // A publish is already due.
        }
    }

    private async Task PublishAsync()
    {
        var users = _connections.OnlineUsers();
        var transaction = _redis.GetDatabase().CreateTransaction();
        _ = transaction.KeyDeleteAsync(Key);
        if (users.Count > 0)
        {
            _ = transaction.HashSetAsync(Key, [.. users.Select(u => new HashEntry(u, 1))]);
            _ = transaction.KeyExpireAsync(Key, Lifetime);
        }

        _ = transaction.SetAddAsync(Instances, _instance.Id);
        await transaction.ExecuteAsync();
    }

    [LoggerMessage(EventId = 60, Level = LogLevel.Warning, Message = "Shared presence in Redis is unavailable; using this instance's only")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
