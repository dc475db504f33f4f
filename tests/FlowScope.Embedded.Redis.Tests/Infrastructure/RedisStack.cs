using FlowScope.Embedded.Buffering;
using FlowScope.Embedded.Redis.Internal;
using FlowScope.Embedded.Redis.Sharding;
using FlowScope.Embedded.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace FlowScope.Embedded.Redis.Tests.Infrastructure;

/// <summary>
/// One FlowScope "instance" without a web host: the Redis runtime (store, writer, reader, consumer) as
/// AddRedisStreams builds it, driven directly with span records. Several stacks with different instance names
/// share one redis-server like several app instances.
/// </summary>
internal sealed class RedisStack : IAsyncDisposable
{
    private bool _stopped;

    private RedisStack(RedisStreamsRuntime runtime, RedisStreamsOptions options, LiveSignal signal)
    {
        Runtime = runtime;
        Options = options;
        Signal = signal;
    }

    public RedisStreamsRuntime Runtime { get; }

    public RedisStreamsOptions Options { get; }

    public LiveSignal Signal { get; }

    public ITraceStore Store => Runtime.Store;

    public RedisStreamWriter Writer => Runtime.Writer!;

    public RedisStreamReader Reader => Runtime.Reader!;

    public RedisIndexGroup Index => Runtime.Index!;

    public RedisKeyLayout Layout => Runtime.Layout!;

    public static Task<RedisStack> StartAsync(RedisServer server, string prefix, string instance, Action<RedisStreamsOptions>? configure = null, TimeProvider? time = null, bool start = true, Action<FlowScopeOptions>? configureCore = null) =>
        StartAsync(server.ConnectionString, prefix, instance, configure, time, start, configureCore);

    public static async Task<RedisStack> StartAsync(string connectionString, string prefix, string instance, Action<RedisStreamsOptions>? configure = null, TimeProvider? time = null, bool start = true, Action<FlowScopeOptions>? configureCore = null)
    {
        var options = new RedisStreamsOptions
        {
            ConnectionString = connectionString,
            KeyPrefix = prefix,
            PollInterval = TimeSpan.FromMilliseconds(200),
            RetryBaseDelay = TimeSpan.FromMilliseconds(50),
            RetryMaxDelay = TimeSpan.FromMilliseconds(500),
            ConnectTimeout = TimeSpan.FromMilliseconds(1000),
            OperationTimeout = TimeSpan.FromMilliseconds(1000),
        };
        configure?.Invoke(options);
        var validation = new RedisStreamsOptionsValidator().Validate(null, options);
        Assert.True(validation.Succeeded, validation.FailureMessage);

        var core = new FlowScopeOptions { InstanceName = instance };
        configureCore?.Invoke(core);
        var signal = new LiveSignal();
        var wrapped = Microsoft.Extensions.Options.Options.Create(options);
        var connection = new RedisConnection(wrapped, NullLogger<RedisConnection>.Instance);
        var runtime = new RedisStreamsRuntime(wrapped, Microsoft.Extensions.Options.Options.Create(core), connection, signal, time ?? TimeProvider.System, NullLoggerFactory.Instance);
        if (start)
        {
            await runtime.StartAsync(CancellationToken.None);
        }

        return new RedisStack(runtime, options, signal);
    }

    /// <summary>Waits until everything handed to the writer is persisted.</summary>
    public Task FlushedAsync(TimeSpan? timeout = null) =>
        Eventually.WaitUntilAsync(() => Writer.GetStats().Waiting == 0, timeout ?? TimeSpan.FromSeconds(20), "writer has nothing waiting");

    public async Task StopAsync()
    {
        if (!_stopped)
        {
            _stopped = true;
            await Runtime.StopAsync(CancellationToken.None);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        await Runtime.DisposeAsync();
    }

    /// <summary>A separate plain connection for assertions against Redis itself.</summary>
    public static Task<ConnectionMultiplexer> ConnectAsync(RedisServer server) => ConnectAsync(server.ConnectionString);

    public static async Task<ConnectionMultiplexer> ConnectAsync(string connectionString) =>
        await ConnectionMultiplexer.ConnectAsync(connectionString + ",abortConnect=false,connectTimeout=2000");

    public static string NewPrefix() => "t" + Guid.NewGuid().ToString("N")[..12];

    /// <summary>Counts the distinct spans in every shard's stream (a batch written twice counts once).</summary>
    public async Task<int> CountDistinctSpansAsync(IDatabase db)
    {
        var spans = 0;
        foreach (var shard in Layout.Shards)
        {
            spans += await CountDistinctSpansAsync(db, shard.StreamKey);
        }

        return spans;
    }

    /// <summary>Counts the distinct spans in the stream (a batch written twice counts once).</summary>
    public static async Task<int> CountDistinctSpansAsync(IDatabase db, string streamKey)
    {
        var batches = new HashSet<string>(StringComparer.Ordinal);
        var spans = 0;
        foreach (var entry in await db.StreamRangeAsync(streamKey))
        {
            var decoded = StreamEntryFormat.Decode(entry);
            if (batches.Add(decoded.BatchId))
            {
                spans += decoded.Batch.SpanCount;
            }
        }

        return spans;
    }
}
