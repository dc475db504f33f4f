using FlowScope.Embedded.Redis.Sharding;
using FlowScope.Embedded.Storage;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace FlowScope.Embedded.Redis.Internal;

/// <summary>
/// The trace store when Redis is configured. Queries, the live stream and stats read a local in-memory index that
/// holds this instance's spans and, through <see cref="RedisStreamReader"/>, every instance's. Adding never waits for
/// Redis: spans go to the local index and are handed to the writer's bounded queue. A trace the local index no longer
/// holds is looked up in the shared index the consumer group maintains, while the stream still retains it.
/// </summary>
internal sealed class RedisTraceStore : ITraceStore
{
    private readonly ITraceStore _local;
    private readonly RedisStreamWriter _writer;
    private readonly RedisStreamsOptions _options;
    private readonly RedisKeyLayout _layout;
    private readonly RedisConnection _connection;
    private readonly int _maxSpansPerTrace;
    private readonly ILogger _logger;
    private bool _lookupFailureLogged;

    public RedisTraceStore(ITraceStore local, RedisStreamWriter writer, RedisStreamsOptions options, RedisConnection connection, int maxSpansPerTrace, ILogger logger, KeptTraceWriter? kept = null)
    {
        Kept = kept;
        _local = local;
        _writer = writer;
        _options = options;
        _layout = writer.Layout;
        _connection = connection;
        _maxSpansPerTrace = maxSpansPerTrace;
        _logger = logger;
    }

    /// <summary>Gets the writer of kept copies, or <see langword="null"/> when <see cref="RedisStreamsOptions.KeptRetention"/> is off.</summary>
    public KeptTraceWriter? Kept { get; }

    public async ValueTask AddAsync(SpanBatch batch, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(batch);
        await _local.AddAsync(batch, cancellationToken).ConfigureAwait(false);
        _writer.TryEnqueue(batch);
        Kept?.Observe(batch);
    }

    public ValueTask<TracePage> QueryAsync(TraceQuery query, CancellationToken cancellationToken = default) =>
        _local.QueryAsync(query, cancellationToken);

    public async ValueTask<TraceDetail?> GetTraceAsync(string traceId, CancellationToken cancellationToken = default)
    {
        var local = await _local.GetTraceAsync(traceId, cancellationToken).ConfigureAwait(false);
        if (local is not null || !_connection.IsConnected)
        {
            return local;
        }

        try
        {
            return (_options.EnableConsumerGroup ? await LookUpSharedAsync(traceId).ConfigureAwait(false) : null)
                ?? (Kept is not null ? await LookUpKeptAsync(traceId).ConfigureAwait(false) : null);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or InvalidDataException or OverflowException)
        {
            if (!_lookupFailureLogged)
            {
                _lookupFailureLogged = true;
                RedisLog.ReadFailed(_logger, ex);
            }

            return null;
        }
    }

    // A store of its own rebuilds one trace from its entries (and whatever else they hold): small segments, room for a few entries.
    private const int LookupSegmentSize = 1024 * 1024;
    private const long LookupCapacity = 8L * LookupSegmentSize;

    /// <summary>Rebuilds a trace from the entries its shard's index lists for it.</summary>
    private async Task<TraceDetail?> LookUpSharedAsync(string traceId)
    {
        var database = (await _connection.GetAsync().ConfigureAwait(false)).GetDatabase();
        var shard = _layout.For(traceId);
        var entryIds = await database.SetMembersAsync(shard.TraceKey(traceId)).ConfigureAwait(false);
        if (entryIds.Length == 0)
        {
            return null;
        }

        var trace = new InMemoryTraceStore(LookupCapacity, _maxSpansPerTrace, 0, LookupSegmentSize);
        var seen = new BatchIdFilter(entryIds.Length);
        foreach (var id in entryIds)
        {
            var entries = await database.StreamRangeAsync(shard.StreamKey, id, id).ConfigureAwait(false);
            foreach (var entry in entries)
            {
                var decoded = StreamEntryFormat.Decode(entry);
                if (seen.TryAdd(decoded.BatchId))
                {
                    await trace.AddAsync(decoded.Batch).ConfigureAwait(false);
                }
            }
        }

        return await trace.GetTraceAsync(traceId).ConfigureAwait(false);
    }

    /// <summary>Reads a trace's kept copy, once the main stream no longer holds it.</summary>
    internal async Task<TraceDetail?> LookUpKeptAsync(string traceId)
    {
        var database = (await _connection.GetAsync().ConfigureAwait(false)).GetDatabase();
        var shard = _layout.For(traceId);
        var entryId = await database.StringGetAsync(shard.KeptTraceKey(traceId)).ConfigureAwait(false);
        if (entryId.IsNullOrEmpty)
        {
            return null;
        }

        var entries = await database.StreamRangeAsync(shard.KeptStreamKey, entryId.ToString(), entryId.ToString()).ConfigureAwait(false);
        if (entries.Length == 0)
        {
            return null;
        }

        var trace = new InMemoryTraceStore(LookupCapacity, _maxSpansPerTrace, 0, LookupSegmentSize);
        await trace.AddAsync(StreamEntryFormat.Decode(entries[0]).Batch).ConfigureAwait(false);
        return await trace.GetTraceAsync(traceId).ConfigureAwait(false);
    }

    public ValueTask<TraceChanges> GetChangesAsync(long afterVersion, int maxCount, CancellationToken cancellationToken = default) =>
        _local.GetChangesAsync(afterVersion, maxCount, cancellationToken);

    public TraceStoreStats GetStats() => _local.GetStats();

    public IReadOnlyList<TraceRouteStats> GetRouteStats() => _local.GetRouteStats();
}
