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
    private readonly Lazy<Task<IConnectionMultiplexer>> _connection;

    public RedisConnection(IOptions<RedisStreamsOptions> options, ILogger<RedisConnection> logger)
    {
        _options = options.Value;
        _logger = logger;
        _connection = new Lazy<Task<IConnectionMultiplexer>>(ConnectAsync, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>Gets whether the connection exists and is connected now.</summary>
    public bool IsConnected => _connection.IsValueCreated && _connection.Value.IsCompletedSuccessfully && _connection.Value.Result.IsConnected;

    /// <summary>Gets the multiplexer, connecting on first use. Completes within the connect timeout even when Redis is down.</summary>
    public Task<IConnectionMultiplexer> GetAsync() => _connection.Value;

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

        return multiplexer;
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection.IsValueCreated)
        {
            try
            {
                var multiplexer = await _connection.Value.ConfigureAwait(false);
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
