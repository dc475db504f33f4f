using FlowScope.Embedded.Buffering;
using FlowScope.Embedded.Redis.Sharding;
using FlowScope.Embedded.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FlowScope.Embedded.Redis.Internal;

/// <summary>
/// Owns the Redis pieces (store, writer, reader, consumer) and runs their loops with the host. Registered ahead of
/// FlowScope's own runtime, so it starts first and stops last: the pump's final drain still reaches the writer,
/// which then gets <see cref="RedisStreamsOptions.ShutdownTimeout"/> to persist it.
/// </summary>
internal sealed class RedisStreamsRuntime : IHostedService, IAsyncDisposable
{
    private readonly RedisStreamsOptions _options;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly CancellationTokenSource _abortWriter = new();
    private readonly string _instance;
    private readonly bool _flowScopeEnabled;
    private Task? _writerTask;
    private Task? _readerTask;
    private Task? _indexTask;
    private Task? _keptTask;

    public RedisStreamsRuntime(
        IOptions<RedisStreamsOptions> options,
        IOptions<FlowScopeOptions> flowScopeOptions,
        RedisConnection connection,
        LiveSignal signal,
        TimeProvider time,
        ILoggerFactory loggerFactory)
    {
        _options = options.Value;
        _logger = loggerFactory.CreateLogger("FlowScope.Embedded.Redis");
        var core = flowScopeOptions.Value;
        _flowScopeEnabled = core.Enabled;
        _instance = core.InstanceName ?? $"{Environment.MachineName}/{Environment.ProcessId}";
        var local = new InMemoryTraceStore(core.MaxStoreMegabytes * 1024L * 1024, core.MaxSpansPerTrace, core.MaxTraces, core.Retention);
        if (!_options.IsEnabled)
        {
            Store = local;
            return;
        }

        Connection = connection;
        Layout = _options.CreateLayout();
        var runId = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray().AsSpan(0, 8));
        Writer = new RedisStreamWriter(_options, Layout, connection, _instance, runId, time, _logger);
        Kept = _options.KeptRetention is null ? null : new KeptTraceWriter(_options, Layout, connection, local, core.Retention, _instance, runId, time, _logger);
        Store = new RedisTraceStore(local, Writer, _options, connection, core.MaxSpansPerTrace, _logger, Kept);
        var wakeUp = new RedisWakeUp(connection, Layout.WakeUpChannel, time);
        if (_options.ReadSharedHistory)
        {
            Reader = new RedisStreamReader(_options, Layout, connection, wakeUp, local, signal, runId, _logger, loadKept: Kept is not null);
        }

        if (_options.EnableConsumerGroup)
        {
            // One consumer name per instance name: a restarted instance takes its own pending entries back first.
            Index = new RedisIndexGroup([.. Layout.Shards.Select(keys => new RedisIndexProcessor(_options, keys, connection, wakeUp, _instance, time, _logger))]);
        }
    }

    /// <summary>Gets the store FlowScope uses: the Redis-backed one, or the in-memory one when Redis is off.</summary>
    public ITraceStore Store { get; }

    public RedisConnection? Connection { get; }

    /// <summary>Gets the keys in use (<see langword="null"/> when Redis is off).</summary>
    public RedisKeyLayout? Layout { get; }

    public RedisStreamWriter? Writer { get; }

    public RedisStreamReader? Reader { get; }

    /// <summary>Gets the writer of kept copies of error and slow traces (<see langword="null"/> when off).</summary>
    public KeptTraceWriter? Kept { get; }

    public RedisIndexGroup? Index { get; }

    public bool IsEnabled => Writer is not null;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (Writer is null)
        {
            RedisLog.NotConfigured(_logger);
            return Task.CompletedTask;
        }

        if (!_flowScopeEnabled)
        {
            // FlowScope's kill switch covers its Redis traffic too.
            return Task.CompletedTask;
        }

        RedisLog.Started(_logger, Layout!.Shards[0].StreamKey, Layout.Count, _instance);
        // Connecting happens inside the loops: the host starts at once whether or not Redis answers. The writer runs
        // on threads of its own; the reader and the consumers are asynchronous loops.
        _writerTask = Writer.RunAsync(_abortWriter.Token);
        if (Reader is not null)
        {
            _readerTask = Task.Run(() => Reader.RunAsync(_stopping.Token), CancellationToken.None);
        }

        if (Index is not null)
        {
            _indexTask = Index.RunAsync(_stopping.Token);
        }

        if (Kept is not null)
        {
            _keptTask = Task.Run(() => Kept.RunAsync(_stopping.Token), CancellationToken.None);
        }

        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (Writer is null)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        Writer.Complete();
        _abortWriter.CancelAfter(_options.ShutdownTimeout);
        using (cancellationToken.Register(static s => ((CancellationTokenSource)s!).Cancel(), _abortWriter))
        {
            await Task.WhenAll(
                _writerTask ?? Task.CompletedTask,
                _readerTask ?? Task.CompletedTask,
                _indexTask ?? Task.CompletedTask,
                _keptTask ?? Task.CompletedTask).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stopping.Dispose();
        _abortWriter.Dispose();
        if (Connection is not null)
        {
            await Connection.DisposeAsync().ConfigureAwait(false);
        }
    }
}
