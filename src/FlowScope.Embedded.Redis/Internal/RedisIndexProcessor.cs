using System.Diagnostics;
using System.Globalization;
using FlowScope.Embedded.Capture;
using FlowScope.Embedded.Redis.Sharding;
using FlowScope.Embedded.Storage;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace FlowScope.Embedded.Redis.Internal;

/// <summary>
/// One consumer, for one shard, of the shard's consumer group that all instances share. Each entry is processed by exactly one instance:
/// it updates the shared index (trace id → entry ids, traces by start time) and the per-component metrics in one
/// Lua script that first sets a done-marker for the batch id, so a reclaimed or duplicated batch is never counted
/// twice; then it acknowledges the entry. Entries left pending by a crashed consumer are reclaimed with
/// <c>XAUTOCLAIM</c> after <see cref="RedisStreamsOptions.ClaimMinIdleTime"/>; entries trimmed while pending come
/// back as deleted ids and are acknowledged and counted.
/// </summary>
internal sealed class RedisIndexProcessor
{
    internal const int PageSize = 32;

    /// <summary>How many traces the by-start-time index keeps.</summary>
    internal const int MaxIndexedTraces = 100_000;

    // KEYS: 1 done marker, 2 component metrics hash, 3 traces-by-start zset, 4.. one set per trace.
    // ARGV: 1 ttl seconds, 2 entry id, 3 component count, 4 max indexed traces, then 4 values per component
    // (name, spans, errors, duration µs), then 2 per trace (trace id, start in ms) in KEYS order.
    private const string ApplyScript = """
        if not redis.call('SET', KEYS[1], ARGV[2], 'NX', 'EX', ARGV[1]) then return 0 end
        local i = 5
        for c = 1, tonumber(ARGV[3]) do
          redis.call('HINCRBY', KEYS[2], ARGV[i] .. '|spans', ARGV[i + 1])
          redis.call('HINCRBY', KEYS[2], ARGV[i] .. '|errors', ARGV[i + 2])
          redis.call('HINCRBY', KEYS[2], ARGV[i] .. '|duration_us', ARGV[i + 3])
          i = i + 4
        end
        for k = 4, #KEYS do
          redis.call('SADD', KEYS[k], ARGV[2])
          redis.call('EXPIRE', KEYS[k], ARGV[1])
          redis.call('ZADD', KEYS[3], 'LT', ARGV[i + 1], ARGV[i])
          i = i + 2
        end
        redis.call('ZREMRANGEBYRANK', KEYS[3], 0, -(tonumber(ARGV[4]) + 1))
        return 1
        """;

    private readonly RedisStreamsOptions _options;
    private readonly RedisConnection _connection;
    private readonly RedisWakeUp _wakeUp;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly RedisShardKeys _keys;
    private readonly RedisKey _streamKey;
    private readonly RedisValue _group;
    private readonly RedisValue _consumer;

    private bool _groupReady;
    private bool _ownPendingDone;
    private DateTimeOffset _nextClaim;
    private long _processed;
    private long _duplicates;
    private long _reclaimed;
    private long _deletedWhilePending;
    private long _badEntries;
    private long _failures;
    private bool _failureLogged;

    public RedisIndexProcessor(RedisStreamsOptions options, RedisShardKeys keys, RedisConnection connection, RedisWakeUp wakeUp, string consumerName, TimeProvider time, ILogger logger)
    {
        _keys = keys;
        _options = options;
        _connection = connection;
        _wakeUp = wakeUp;
        _time = time;
        _logger = logger;
        _streamKey = keys.StreamKey;
        _group = options.ConsumerGroupName;
        _consumer = consumerName;
    }

    public RedisIndexStats GetStats() => new(
        Interlocked.Read(ref _processed),
        Interlocked.Read(ref _duplicates),
        Interlocked.Read(ref _reclaimed),
        Interlocked.Read(ref _deletedWhilePending),
        Interlocked.Read(ref _badEntries),
        Interlocked.Read(ref _failures));

    public RedisShardKeys Keys => _keys;

    public async Task RunAsync(CancellationToken stoppingToken)
    {
        CaptureSuppression.SuppressCurrentFlow();
        Activity.Current = null;
        while (!stoppingToken.IsCancellationRequested)
        {
            var wake = _wakeUp.NextAsync();
            var more = false;
            try
            {
                await _wakeUp.EnsureSubscribedAsync().ConfigureAwait(false);
                more = await RunOnceAsync().ConfigureAwait(false);
                _failureLogged = false;
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
            {
                if (ex is RedisServerException && ex.Message.Contains("NOGROUP", StringComparison.Ordinal))
                {
                    // The stream or group is gone (deleted, or Redis restarted without persistence): create it again.
                    _groupReady = false;
                }

                // Entries this consumer took but did not finish stay pending with it: take them back first next round
                // rather than waiting for XAUTOCLAIM's idle time.
                _ownPendingDone = false;

                Interlocked.Increment(ref _failures);
                if (!_failureLogged)
                {
                    _failureLogged = true;
                    RedisLog.IndexFailed(_logger, ex);
                }
            }

            if (!more)
            {
                var poll = _options.PollInterval < _options.ClaimInterval ? _options.PollInterval : _options.ClaimInterval;
                try
                {
                    await _wakeUp.WaitAsync(wake, poll, stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    return;
                }
            }
        }
    }

    /// <summary>One round: reclaim when due, then one page of new entries. Returns whether more work is waiting.</summary>
    internal async Task<bool> RunOnceAsync()
    {
        var database = (await _connection.GetAsync().ConfigureAwait(false)).GetDatabase();
        if (!_groupReady)
        {
            await EnsureGroupAsync(database).ConfigureAwait(false);
            _groupReady = true;
        }

        if (_time.GetUtcNow() >= _nextClaim)
        {
            await ReclaimAsync(database).ConfigureAwait(false);
            _nextClaim = _time.GetUtcNow() + _options.ClaimInterval;
        }

        // After a restart under the same consumer name, entries delivered to the previous run come first ("0").
        var position = _ownPendingDone ? StreamPosition.NewMessages : (RedisValue)"0";
        var entries = await database.StreamReadGroupAsync(_streamKey, _group, _consumer, position, PageSize).ConfigureAwait(false);
        if (!_ownPendingDone && entries.Length == 0)
        {
            _ownPendingDone = true;
            return true;
        }

        await ProcessAsync(database, entries).ConfigureAwait(false);
        return entries.Length == PageSize;
    }

    private async Task EnsureGroupAsync(IDatabase database)
    {
        try
        {
            // From "0": a new group indexes the retained history too.
            await database.StreamCreateConsumerGroupAsync(_streamKey, _group, "0", createStream: true).ConfigureAwait(false);
        }
        catch (RedisServerException ex) when (ex.Message.Contains("BUSYGROUP", StringComparison.Ordinal))
        {
            // Another instance created it first.
        }
    }

    private async Task ReclaimAsync(IDatabase database)
    {
        RedisValue start = "0-0";
        var claimedTotal = 0;
        var deletedTotal = 0;
        do
        {
            var result = await database.StreamAutoClaimAsync(
                _streamKey, _group, _consumer, (long)_options.ClaimMinIdleTime.TotalMilliseconds, start, PageSize).ConfigureAwait(false);
            if (result.IsNull)
            {
                break;
            }

            var claimed = result.ClaimedEntries.Where(e => !e.IsNull).ToArray();
            // Redis 6.2 returns trimmed entries as nil entries, 7.0+ as deleted ids (already removed from the PEL).
            var deleted = result.DeletedIds.Concat(result.ClaimedEntries.Where(e => e.IsNull).Select(e => e.Id)).ToArray();
            if (deleted.Length > 0)
            {
                await database.StreamAcknowledgeAsync(_streamKey, _group, deleted).ConfigureAwait(false);
                Interlocked.Add(ref _deletedWhilePending, deleted.Length);
            }

            await ProcessAsync(database, claimed).ConfigureAwait(false);
            Interlocked.Add(ref _reclaimed, claimed.Length);
            claimedTotal += claimed.Length;
            deletedTotal += deleted.Length;
            start = result.NextStartId;
        }
        while (start != "0-0" && !start.IsNullOrEmpty);

        if (claimedTotal + deletedTotal > 0)
        {
            RedisLog.Reclaimed(_logger, claimedTotal, deletedTotal);
        }
    }

    private async Task ProcessAsync(IDatabase database, StreamEntry[] entries)
    {
        foreach (var entry in entries)
        {
            DecodedEntry decoded;
            try
            {
                decoded = StreamEntryFormat.Decode(entry);
            }
            catch (Exception ex) when (ex is InvalidDataException or OverflowException or ArgumentException or FormatException)
            {
                // A poison entry is acknowledged and counted; keeping it pending would only reclaim it forever.
                if (Interlocked.Increment(ref _badEntries) == 1)
                {
                    RedisLog.BadEntry(_logger, ex, entry.Id.ToString());
                }

                await database.StreamAcknowledgeAsync(_streamKey, _group, entry.Id).ConfigureAwait(false);
                continue;
            }

            var (keys, values) = BuildScriptArguments(decoded);
            var applied = (long)await database.ScriptEvaluateAsync(ApplyScript, keys, values).ConfigureAwait(false);
            await database.StreamAcknowledgeAsync(_streamKey, _group, entry.Id).ConfigureAwait(false);
            if (applied == 1)
            {
                Interlocked.Increment(ref _processed);
            }
            else
            {
                Interlocked.Increment(ref _duplicates);
            }
        }
    }

    private (RedisKey[] Keys, RedisValue[] Values) BuildScriptArguments(DecodedEntry entry)
    {
        var components = new Dictionary<string, (long Spans, long Errors, long DurationMicros)>(StringComparer.Ordinal);
        var traces = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        foreach (var span in entry.Batch.Decode())
        {
            components.TryGetValue(span.Component, out var c);
            components[span.Component] = (c.Spans + 1, c.Errors + (span.Status == ActivityStatusCode.Error ? 1 : 0), c.DurationMicros + (long)span.Duration.TotalMicroseconds);
            if (!traces.TryGetValue(span.TraceId, out var start) || span.StartTime < start)
            {
                traces[span.TraceId] = span.StartTime;
            }
        }

        var keys = new RedisKey[3 + traces.Count];
        keys[0] = _keys.DoneKey(entry.BatchId);
        keys[1] = _keys.ComponentsKey;
        keys[2] = _keys.TracesByStartKey;
        var values = new List<RedisValue>(4 + (components.Count * 4) + (traces.Count * 2))
        {
            (long)Math.Max(1, _options.IndexTimeToLive.TotalSeconds),
            entry.EntryId,
            components.Count,
            MaxIndexedTraces,
        };
        foreach (var (name, c) in components)
        {
            values.Add(name);
            values.Add(c.Spans);
            values.Add(c.Errors);
            values.Add(c.DurationMicros);
        }

        var k = 3;
        foreach (var (traceId, start) in traces)
        {
            keys[k++] = _keys.TraceKey(traceId);
            values.Add(traceId);
            values.Add(start.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture));
        }

        return (keys, values.ToArray());
    }
}

/// <summary>The consumer's counters.</summary>
/// <param name="Processed">Entries applied to the shared index.</param>
/// <param name="Duplicates">Entries whose batch was already applied (a duplicated write or a reclaim after the script ran).</param>
/// <param name="Reclaimed">Entries taken over from idle consumers with XAUTOCLAIM.</param>
/// <param name="DeletedWhilePending">Pending entries that had been trimmed before anyone processed them.</param>
/// <param name="BadEntries">Entries that could not be decoded (acknowledged and skipped).</param>
/// <param name="Failures">Failed rounds (Redis errors).</param>
internal sealed record RedisIndexStats(long Processed, long Duplicates, long Reclaimed, long DeletedWhilePending, long BadEntries, long Failures)
{
    public static RedisIndexStats Sum(IEnumerable<RedisIndexStats> shards) => shards.Aggregate(
        new RedisIndexStats(0, 0, 0, 0, 0, 0),
        static (a, b) => new(a.Processed + b.Processed, a.Duplicates + b.Duplicates, a.Reclaimed + b.Reclaimed,
            a.DeletedWhilePending + b.DeletedWhilePending, a.BadEntries + b.BadEntries, a.Failures + b.Failures));
}
