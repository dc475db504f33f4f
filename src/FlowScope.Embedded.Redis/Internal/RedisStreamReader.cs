using FlowScope.Embedded.Buffering;
using FlowScope.Embedded.Capture;
using FlowScope.Embedded.Redis.Sharding;
using FlowScope.Embedded.Storage;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace FlowScope.Embedded.Redis.Internal;

/// <summary>
/// Follows the shards' streams into the local index so this instance's dashboard shows every instance's spans: at
/// start it loads the newest retained entries of all shards, then new entries after each shard's cursor whenever a
/// wake-up arrives or the poll interval passes. Entries of several shards are merged in time order (by entry id)
/// before they reach the local index. Entries this process run wrote are skipped (their spans are already in the
/// local index) and a batch id seen before is skipped, so a duplicated write never duplicates spans.
/// </summary>
internal sealed class RedisStreamReader
{
    internal const int PageSize = 64;
    internal const int RememberedBatchIds = 100_000;

    private readonly RedisStreamsOptions _options;
    private readonly RedisKeyLayout _layout;
    private readonly RedisConnection _connection;
    private readonly RedisWakeUp _wakeUp;
    private readonly ITraceStore _local;
    private readonly LiveSignal? _signal;
    private readonly string _ownRunPrefix;
    private readonly ILogger _logger;
    private readonly BatchIdFilter _seen = new(RememberedBatchIds);
    private readonly string[] _cursors;
    private readonly bool _loadKept;

    private bool _loaded;
    private long _entriesRead;
    private long _spansAdded;
    private long _ownEntriesSkipped;
    private long _duplicateBatches;
    private long _badEntries;
    private long _readFailures;
    private int _caughtUp;
    private bool _badEntryLogged;
    private bool _failureLogged;

    public RedisStreamReader(RedisStreamsOptions options, RedisKeyLayout layout, RedisConnection connection, RedisWakeUp wakeUp, ITraceStore local, LiveSignal? signal, string ownRunId, ILogger logger, bool loadKept = false)
    {
        _loadKept = loadKept;
        _options = options;
        _layout = layout;
        _connection = connection;
        _wakeUp = wakeUp;
        _local = local;
        _signal = signal;
        _ownRunPrefix = ownRunId + "-";
        _logger = logger;
        _cursors = new string[layout.Count];
    }

    /// <summary>Gets whether the reader has read every shard to its end at least once (the history is loaded).</summary>
    public bool CaughtUp => Volatile.Read(ref _caughtUp) == 1;

    public RedisReaderStats GetStats() => new(
        Interlocked.Read(ref _entriesRead),
        Interlocked.Read(ref _spansAdded),
        Interlocked.Read(ref _ownEntriesSkipped),
        Interlocked.Read(ref _duplicateBatches),
        Interlocked.Read(ref _badEntries),
        Interlocked.Read(ref _readFailures),
        CaughtUp);

    public async Task RunAsync(CancellationToken stoppingToken)
    {
        CaptureSuppression.SuppressCurrentFlow();
        System.Diagnostics.Activity.Current = null;
        while (!stoppingToken.IsCancellationRequested)
        {
            var wake = _wakeUp.NextAsync();
            var more = false;
            try
            {
                await _wakeUp.EnsureSubscribedAsync().ConfigureAwait(false);
                more = await ReadPageAsync().ConfigureAwait(false);
                _failureLogged = false;
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
            {
                Interlocked.Increment(ref _readFailures);
                if (!_failureLogged)
                {
                    _failureLogged = true;
                    RedisLog.ReadFailed(_logger, ex);
                }
            }

            if (!more)
            {
                try
                {
                    await _wakeUp.WaitAsync(wake, _options.PollInterval, stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    return;
                }
            }
        }
    }

    /// <summary>
    /// Reads one page after each shard's cursor and indexes them merged in time order. A shard whose page was full
    /// may have more entries before another shard's last one, so only entries up to the earliest last entry of a
    /// full page are indexed; the rest is read again next round. Returns whether more may follow.
    /// </summary>
    internal async Task<bool> ReadPageAsync()
    {
        var database = (await _connection.GetAsync().ConfigureAwait(false)).GetDatabase();
        if (!_loaded)
        {
            await LoadHistoryAsync(database).ConfigureAwait(false);
            _loaded = true;
            return true;
        }

        var reads = new Task<StreamEntry[]>[_layout.Count];
        for (var s = 0; s < reads.Length; s++)
        {
            reads[s] = database.StreamRangeAsync(_layout[s].StreamKey, minId: "(" + _cursors[s], maxId: "+", count: PageSize);
        }

        // A shard that cannot be read (its node down) does not hold the others back; it is read again next round.
        var pages = new StreamEntry[reads.Length][];
        Exception? failure = null;
        for (var s = 0; s < reads.Length; s++)
        {
            try
            {
                pages[s] = await reads[s].ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                failure ??= ex;
                pages[s] = [];
            }
        }

        StreamId? horizon = null;
        foreach (var page in pages)
        {
            if (page.Length == PageSize && StreamId.Parse(page[^1].Id.ToString()) is var last && (horizon is null || last < horizon))
            {
                horizon = last;
            }
        }

        var merged = new List<(StreamId Id, int Shard, StreamEntry Entry)>();
        for (var s = 0; s < pages.Length; s++)
        {
            foreach (var entry in pages[s])
            {
                var id = StreamId.Parse(entry.Id.ToString());
                if (horizon is { } h && id > h)
                {
                    break;
                }

                merged.Add((id, s, entry));
            }
        }

        merged.Sort(static (a, b) => a.Id != b.Id ? a.Id.CompareTo(b.Id) : a.Shard.CompareTo(b.Shard));
        await IndexAsync(merged).ConfigureAwait(false);
        if (failure is not null)
        {
            // Counted and logged by the loop, which then waits for the next wake-up or poll.
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        }

        if (horizon is null)
        {
            Volatile.Write(ref _caughtUp, 1);
        }

        return horizon is not null;
    }

    /// <summary>
    /// Loads the newest <see cref="RedisStreamsOptions.MaxHistoryEntriesOnStart"/> entries of all shards: each shard
    /// is read newest first (XREVRANGE) and the shards merged newest first, to stop at the limit without reading the
    /// streams whole; then they are indexed oldest first, so the local index orders traces as they happened.
    /// </summary>
    private async Task LoadHistoryAsync(IDatabase database)
    {
        var count = _layout.Count;
        var buffers = new Queue<StreamEntry>[count];
        var before = new string?[count];
        var exhausted = new bool[count];
        var newest = new string?[count];
        var selected = new List<(StreamId Id, int Shard, StreamEntry Entry)>();
        for (var s = 0; s < count; s++)
        {
            buffers[s] = new Queue<StreamEntry>();
        }

        while (selected.Count < _options.MaxHistoryEntriesOnStart)
        {
            var want = Math.Min(PageSize, _options.MaxHistoryEntriesOnStart - selected.Count);
            var fetches = new Task<StreamEntry[]>?[count];
            for (var s = 0; s < count; s++)
            {
                if (buffers[s].Count == 0 && !exhausted[s])
                {
                    fetches[s] = database.StreamRangeAsync(_layout[s].StreamKey, "-", before[s] is null ? "+" : "(" + before[s], want, Order.Descending);
                }
            }

            for (var s = 0; s < count; s++)
            {
                if (fetches[s] is not { } fetch)
                {
                    continue;
                }

                var page = await fetch.ConfigureAwait(false);
                if (page.Length > 0)
                {
                    newest[s] ??= page[0].Id.ToString();
                    before[s] = page[^1].Id.ToString();
                    foreach (var entry in page)
                    {
                        buffers[s].Enqueue(entry);
                    }
                }

                exhausted[s] = page.Length < want;
            }

            // The newest head of all shards is the next entry back in time.
            var pick = -1;
            var pickId = default(StreamId);
            for (var s = 0; s < count; s++)
            {
                if (buffers[s].TryPeek(out var head) && StreamId.Parse(head.Id.ToString()) is var id && (pick < 0 || id > pickId))
                {
                    pick = s;
                    pickId = id;
                }
            }

            if (pick < 0)
            {
                break;
            }

            selected.Add((pickId, pick, buffers[pick].Dequeue()));
        }

        selected.Reverse();
        for (var offset = 0; offset < selected.Count; offset += PageSize)
        {
            await IndexAsync(selected.GetRange(offset, Math.Min(PageSize, selected.Count - offset))).ConfigureAwait(false);
        }

        // From here on, everything after each shard's newest entry (or the whole stream when it was empty).
        for (var s = 0; s < count; s++)
        {
            _cursors[s] = newest[s] ?? "0-0";
        }

        if (_loadKept)
        {
            await LoadKeptAsync(database).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Loads the newest kept copies (error and slow traces) of traces the recent history did not bring: at most a
    /// quarter of <see cref="RedisStreamsOptions.MaxHistoryEntriesOnStart"/>, shared by the shards.
    /// </summary>
    private async Task LoadKeptAsync(IDatabase database)
    {
        var perShard = Math.Max(1, _options.MaxHistoryEntriesOnStart / 4 / _layout.Count);
        var added = 0;
        for (var s = 0; s < _layout.Count; s++)
        {
            var entries = await database.StreamRangeAsync(_layout[s].KeptStreamKey, "-", "+", perShard, Order.Descending).ConfigureAwait(false);
            for (var e = entries.Length - 1; e >= 0; e--)
            {
                if (!TryTake(entries[e], out var batch) || batch.Count == 0
                    || await _local.GetTraceAsync(batch.GetTraceId(0).ToHexString()).ConfigureAwait(false) is not null)
                {
                    continue;
                }

                await _local.AddAsync(batch).ConfigureAwait(false);
                added += batch.SpanCount;
            }
        }

        if (added > 0)
        {
            Interlocked.Add(ref _spansAdded, added);
            _signal?.Notify();
        }
    }

    private async Task IndexAsync(List<(StreamId Id, int Shard, StreamEntry Entry)> entries)
    {
        var added = 0;
        foreach (var (_, shard, entry) in entries)
        {
            _cursors[shard] = entry.Id.ToString();
            Interlocked.Increment(ref _entriesRead);
            if (TryTake(entry, out var batch))
            {
                await _local.AddAsync(batch).ConfigureAwait(false);
                added += batch.SpanCount;
            }
        }

        if (added > 0)
        {
            Interlocked.Add(ref _spansAdded, added);
            _signal?.Notify();
        }
    }

    private bool TryTake(StreamEntry entry, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out SpanBatch? batch)
    {
        batch = null;
        var batchId = entry[StreamEntryFormat.BatchIdField].ToString();
        if (batchId.StartsWith(_ownRunPrefix, StringComparison.Ordinal))
        {
            Interlocked.Increment(ref _ownEntriesSkipped);
            return false;
        }

        DecodedEntry decoded;
        try
        {
            decoded = StreamEntryFormat.Decode(entry);
        }
        catch (Exception ex) when (ex is InvalidDataException or OverflowException or ArgumentException or FormatException)
        {
            Interlocked.Increment(ref _badEntries);
            if (!_badEntryLogged)
            {
                _badEntryLogged = true;
                RedisLog.BadEntry(_logger, ex, entry.Id.ToString());
            }

            return false;
        }

        if (!_seen.TryAdd(decoded.BatchId))
        {
            Interlocked.Increment(ref _duplicateBatches);
            return false;
        }

        batch = decoded.Batch;
        return true;
    }
}

/// <summary>The reader's counters.</summary>
internal sealed record RedisReaderStats(long EntriesRead, long SpansAdded, long OwnEntriesSkipped, long DuplicateBatches, long BadEntries, long ReadFailures, bool CaughtUp);
