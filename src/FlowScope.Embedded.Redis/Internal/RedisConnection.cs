using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace FlowScope.Embedded.Redis.Internal;

/// <summary>
/// FlowScope's own connection to Redis, separate from any the application has, configured so that an outage
/// never waits: abortConnect=false (start without Redis, reconnect in the background), fail-fast while
/// disconnected (no backlog that would hold commands) and short timeouts.
/// </summary>
internal sealed class RedisConnection : IAsyncDisposable
{
    private readonly RedisStreamsOptions _options;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private Task<IConnectionMultiplexer>? _connection;

    public RedisConnection(IOptions<RedisStreamsOptions> options, ILogger<RedisConnection> logger)
    {
        _options = options.Value;
        _logger = logger;
    }

    /// <summary>Gets whether the connection exists and is connected now.</summary>
    public bool IsConnected => Volatile.Read(ref _connection) is { IsCompletedSuccessfully: true } task && task.Result.IsConnected;

    /// <summary>
    /// Gets the multiplexer, connecting on first use. Completes within the connect timeout even when Redis is down
    /// (the multiplexer then reconnects by itself); a connection attempt that threw is started again on the next call.
    /// </summary>
    public Task<IConnectionMultiplexer> GetAsync()
    {
        var current = Volatile.Read(ref _connection);
        if (current is not null && !current.IsFaulted && !current.IsCanceled)
        {
            return current;
        }

        lock (_lock)
        {
            if (_connection is null || _connection.IsFaulted || _connection.IsCanceled)
            {
                _connection = ConnectAsync();
            }

            return _connection;
        }
    }

    /// <summary>Gets the multiplexer when it exists (whether or not it is connected right now), without waiting.</summary>
    public bool TryGetMultiplexer(out IConnectionMultiplexer multiplexer)
    {
        if (Volatile.Read(ref _connection) is { IsCompletedSuccessfully: true } task)
        {
            multiplexer = task.Result;
            return true;
        }

        multiplexer = null!;
        return false;
    }

    internal static ConfigurationOptions CreateConfiguration(RedisStreamsOptions options)
    {
        var configuration = ConfigurationOptions.Parse(options.ConnectionString!);
        configuration.AbortOnConnectFail = false;
        configuration.BacklogPolicy = BacklogPolicy.FailFast;
        configuration.ConnectTimeout = (int)options.ConnectTimeout.TotalMilliseconds;
        configuration.SyncTimeout = (int)options.OperationTimeout.TotalMilliseconds;
        configuration.AsyncTimeout = (int)options.OperationTimeout.TotalMilliseconds;
        configuration.ConnectRetry = 1;
        configuration.ClientName ??= "flowscope";
        return configuration;
    }

    private async Task<IConnectionMultiplexer> ConnectAsync()
    {
        var multiplexer = await ConnectionMultiplexer.ConnectAsync(CreateConfiguration(_options)).ConfigureAwait(false);
        multiplexer.ConnectionFailed += (_, e) => RedisLog.ConnectionFailed(_logger, e.EndPoint?.ToString(), e.FailureType.ToString());
        multiplexer.ConnectionRestored += (_, e) => RedisLog.ConnectionRestored(_logger, e.EndPoint?.ToString());
        if (!multiplexer.IsConnected)
        {
            RedisLog.NotConnectedAtStart(_logger, _options.ConnectionString!.Split(',')[0]);
        }
        else if (_options.Shards == 1 && !HasHashTag(_options.KeyPrefix) && multiplexer.GetServers().Any(s => s.ServerType == ServerType.Cluster))
        {
            RedisLog.ClusterWithoutShards(_logger, _options.KeyPrefix);
        }

        return multiplexer;
    }

    private static bool HasHashTag(string key)
    {
        var open = key.IndexOf('{', StringComparison.Ordinal);
        return open >= 0 && key.IndexOf('}', open + 1) > open + 1;
    }

    public async ValueTask DisposeAsync()
    {
        if (Volatile.Read(ref _connection) is { } connection)
        {
            try
            {
                var multiplexer = await connection.ConfigureAwait(false);
                await multiplexer.CloseAsync(allowCommandsToComplete: false).ConfigureAwait(false);
                multiplexer.Dispose();
            }
            catch (Exception ex) when (ex is RedisException or ObjectDisposedException)
            {
                // Closing a broken connection has nothing left to save.
            }
        }
    }
}
