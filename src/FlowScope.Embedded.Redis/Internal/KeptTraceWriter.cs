using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Threading.Channels;
using FlowScope.Embedded.Capture;
using FlowScope.Embedded.Redis.Sharding;
using FlowScope.Embedded.Storage;
using FlowScope.Embedded.Storage.Encoding;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace FlowScope.Embedded.Redis.Internal;

/// <summary>
/// Copies the traces the retention policy keeps for an error or as slow into their shard's kept stream, so they
/// outlive the main stream's length limit. The pump only marks traces (<see cref="Observe"/>: a span that failed, a
/// local root slower than the slow threshold); a loop of its own waits <see cref="RedisStreamsOptions.KeptSettleDelay"/>
/// for the trace's late spans, reads the whole trace back from the local store, writes it as one entry (the main
/// stream's entry format) and names the entry under <see cref="RedisShardKeys.KeptTraceKey"/>, expiring with it.
/// Bounded: at most <see cref="Capacity"/> traces wait; more are counted as dropped.
/// </summary>
internal sealed class KeptTraceWriter
{
    internal const int Capacity = 1024;

    private readonly RedisStreamsOptions _options;
    private readonly RedisKeyLayout _layout;
    private readonly RedisConnection _connection;
    private readonly ITraceStore _local;
    private readonly string _instance;
    private readonly string _runId;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly TimeSpan _retention;
    private readonly long _slowTicks;
    private readonly long _maxEntriesPerShard;
    private readonly Channel<Candidate> _queue = Channel.CreateBounded<Candidate>(new BoundedChannelOptions(Capacity)
    {
        FullMode = BoundedChannelFullMode.Wait, // TryWrite fails instead of waiting; the pump never waits.
        SingleReader = true,
        SingleWriter = true,
    });

    // Traces marked lately (the pump's thread only): a trace is copied once, whichever of its spans marked it.
    private readonly HashSet<ActivityTraceId> _marked = [];
    private readonly Queue<ActivityTraceId> _markedOrder = new();
    private readonly ArrayBufferWriter<byte> _serialized = new(16 * 1024);
    private readonly DateTimeOffset[] _nextTrim;
    private long _sequence;
    private long _copied;
    private long _dropped;
    private long _failed;
    private long _missing;
    private bool _failureLogged;

    public KeptTraceWriter(RedisStreamsOptions options, RedisKeyLayout layout, RedisConnection connection, ITraceStore local, RetentionOptions retention, string instance, string runId, TimeProvider time, ILogger logger)
    {
        _options = options;
        _layout = layout;
        _connection = connection;
        _local = local;
        _instance = instance;
        _runId = runId;
        _time = time;
        _logger = logger;
        _retention = options.KeptRetention ?? throw new ArgumentException("Kept copies are off.", nameof(options));
        _slowTicks = retention.SlowThreshold.Ticks;
        _maxEntriesPerShard = Math.Max(1, (options.MaxKeptTraces + layout.Count - 1) / layout.Count);
        _nextTrim = new DateTimeOffset[layout.Count];
    }

    public KeptTraceStats GetStats() => new(
        Interlocked.Read(ref _copied), Interlocked.Read(ref _dropped), Interlocked.Read(ref _failed), Interlocked.Read(ref _missing));

    /// <summary>Marks the traces of a batch that are kept for an error or as slow (the pump's thread; never waits).</summary>
    public void Observe(SpanBatch batch)
    {
        for (var i = 0; i < batch.Count; i++)
        {
            var span = new SpanPayload(batch.GetPayload(i));
            var reason = span.ErrorCount > 0 ? TraceRetention.Error
                : span.IsRoot && span.DurationTicks >= _slowTicks ? TraceRetention.Slow
                : TraceRetention.Recent;
            if (reason == TraceRetention.Recent)
            {
                continue;
            }

            var traceId = batch.GetTraceId(i);
            if (!_marked.Add(traceId))
            {
                continue;
            }

            _markedOrder.Enqueue(traceId);
            if (_markedOrder.Count > 4 * Capacity)
            {
                _marked.Remove(_markedOrder.Dequeue());
            }

            if (!_queue.Writer.TryWrite(new Candidate(traceId, reason, _time.GetTimestamp())))
            {
                Interlocked.Increment(ref _dropped);
            }
        }
    }

    public void Complete() => _queue.Writer.TryComplete();

    /// <summary>Copies marked traces until stopped; what is still waiting then is left (it is only a copy).</summary>
    public async Task RunAsync(CancellationToken stoppingToken)
    {
        CaptureSuppression.SuppressCurrentFlow();
        Activity.Current = null;
        try
        {
            await foreach (var candidate in _queue.Reader.ReadAllAsync(stoppingToken).ConfigureAwait(false))
            {
                var wait = _options.KeptSettleDelay - _time.GetElapsedTime(candidate.Timestamp);
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, _time, stoppingToken).ConfigureAwait(false);
                }

                try
                {
                    await CopyAsync(candidate).ConfigureAwait(false);
                    _failureLogged = false;
                }
                catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
                {
                    Interlocked.Increment(ref _failed);
                    if (!_failureLogged)
                    {
                        _failureLogged = true;
                        RedisLog.KeptCopyFailed(_logger, ex);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task CopyAsync(Candidate candidate)
    {
        var traceId = candidate.TraceId.ToHexString();
        var trace = await _local.GetTraceAsync(traceId).ConfigureAwait(false);
        if (trace is null || trace.Spans.Count == 0)
        {
            // Evicted from the local store before its copy was made (a store far too small for the traffic).
            Interlocked.Increment(ref _missing);
            return;
        }

        var batch = SpanBatch.Encode(trace.Spans);
        _serialized.ResetWrittenCount();
        batch.WriteTo(_serialized);
        var payload = _options.Compress ? StreamEntryFormat.Compress(_serialized.WrittenSpan) : _serialized.WrittenSpan.ToArray();
        var entry = new PackedBatch(
            string.Create(CultureInfo.InvariantCulture, $"{_runId}-k{Interlocked.Increment(ref _sequence)}"),
            batch.SpanCount, payload, _options.Compress, candidate.Timestamp);
        var shard = _layout.For(traceId);
        var database = (await _connection.GetAsync().ConfigureAwait(false)).GetDatabase();
        var fields = StreamEntryFormat.Create(entry, _instance);
        var id = await database.StreamAddAsync(shard.KeptStreamKey, [.. fields, new NameValueEntry(StreamEntryFormat.KeptBecauseField, Name(candidate.Reason))],
            messageId: null, maxLength: _maxEntriesPerShard, useApproximateMaxLength: true).ConfigureAwait(false);
        await database.StringSetAsync(shard.KeptTraceKey(traceId), id, _retention).ConfigureAwait(false);
        Interlocked.Increment(ref _copied);
        TrimByAge(database, shard);
    }

    private void TrimByAge(IDatabase database, RedisShardKeys shard)
    {
        var now = _time.GetUtcNow();
        if (now < _nextTrim[shard.Index])
        {
            return;
        }

        _nextTrim[shard.Index] = now + TimeSpan.FromTicks(Math.Clamp(_retention.Ticks / 10, TimeSpan.TicksPerSecond, TimeSpan.TicksPerMinute));
        var minId = string.Create(CultureInfo.InvariantCulture, $"{(now - _retention).ToUnixTimeMilliseconds()}-0");
        database.StreamTrimByMinId(shard.KeptStreamKey, minId, useApproximateMaxLength: false, flags: CommandFlags.FireAndForget);
    }

    private static string Name(TraceRetention reason) => reason == TraceRetention.Error ? "error" : "slow";

    private readonly record struct Candidate(ActivityTraceId TraceId, TraceRetention Reason, long Timestamp);
}

/// <summary>The kept copies' counters: copied, dropped (too many waiting), failed writes, and traces gone from the local store first.</summary>
internal sealed record KeptTraceStats(long Copied, long Dropped, long Failed, long Missing);
