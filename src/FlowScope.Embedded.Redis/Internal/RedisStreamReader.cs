using FlowScope.Embedded.Buffering;
using FlowScope.Embedded.Capture;
using FlowScope.Embedded.Storage;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace FlowScope.Embedded.Redis.Internal;

/// <summary>
/// Follows the shared stream into the local index so this instance's dashboard shows every instance's spans: at
/// start it reads the retained history from the beginning, then new entries from its cursor whenever a wake-up
/// arrives or the poll interval passes. Entries this process run wrote are skipped (their spans are already in the
/// local index) and a batch id seen before is skipped, so a duplicated write never duplicates spans.
/// </summary>
internal sealed class RedisStreamReader
{
    internal const int PageSize = 64;
    internal const int RememberedBatchIds = 100_000;

    private readonly RedisStreamsOptions _options;
    private readonly RedisConnection _connection;
    private readonly RedisWakeUp _wakeUp;
    private readonly ITraceStore _local;
    private readonly LiveSignal? _signal;
    private readonly string _ownRunPrefix;
    private readonly ILogger _logger;
    private readonly BatchIdFilter _seen = new(RememberedBatchIds);
    private readonly RedisKey _streamKey;

    private string? _cursor;
    private long _entriesRead;
    private long _spansAdded;
    private long _ownEntriesSkipped;
    private long _duplicateBatches;
    private long _badEntries;
    private long _readFailures;
    private int _caughtUp;
    private bool _badEntryLogged;
    private bool _failureLogged;

    public RedisStreamReader(RedisStreamsOptions options, RedisConnection connection, RedisWakeUp wakeUp, ITraceStore local, LiveSignal? signal, string ownRunId, ILogger logger)
    {
        _options = options;
        _connection = connection;
        _wakeUp = wakeUp;
        _local = local;
        _signal = signal;
        _ownRunPrefix = ownRunId + "-";
        _logger = logger;
        _streamKey = options.StreamKey;
    }

    /// <summary>Gets whether the reader has read the stream to its end at least once (the history is loaded).</summary>
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

    /// <summary>Reads and indexes one page after the cursor. Returns whether a full page was read (more may follow).</summary>
    internal async Task<bool> ReadPageAsync()
    {
        var database = (await _connection.GetAsync().ConfigureAwait(false)).GetDatabase();
        if (_cursor is null)
        {
            await LoadHistoryAsync(database).ConfigureAwait(false);
            return true;
        }

        var entries = await database.StreamRangeAsync(_streamKey, minId: "(" + _cursor, maxId: "+", count: PageSize).ConfigureAwait(false);
        await IndexAsync(entries).ConfigureAwait(false);
        var full = entries.Length == PageSize;
        if (!full)
        {
            Volatile.Write(ref _caughtUp, 1);
        }

        return full;
    }

    /// <summary>
    /// Loads the newest <see cref="RedisStreamsOptions.MaxHistoryEntriesOnStart"/> entries: read newest first
    /// (XREVRANGE) to stop at the limit without reading the whole stream, then indexed oldest first, so the local
    /// index orders traces as they happened.
    /// </summary>
    private async Task LoadHistoryAsync(IDatabase database)
    {
        var pages = new List<StreamEntry[]>();
        var total = 0;
        string? before = null;
        while (total < _options.MaxHistoryEntriesOnStart)
        {
            var want = Math.Min(PageSize, _options.MaxHistoryEntriesOnStart - total);
            var page = await database.StreamRangeAsync(_streamKey, "-", before is null ? "+" : "(" + before, want, Order.Descending).ConfigureAwait(false);
            if (page.Length == 0)
            {
                break;
            }

            pages.Add(page);
            total += page.Length;
            before = page[^1].Id.ToString();
            if (page.Length < want)
            {
                break;
            }
        }

        for (var p = pages.Count - 1; p >= 0; p--)
        {
            var page = pages[p];
            Array.Reverse(page);
            await IndexAsync(page).ConfigureAwait(false);
        }

        // From here on, everything after the newest entry seen (or the whole stream when it was empty).
        _cursor = pages.Count > 0 ? pages[0][^1].Id.ToString() : "0-0";
    }

    private async Task IndexAsync(StreamEntry[] entries)
    {
        var added = 0;
        foreach (var entry in entries)
        {
            _cursor = entry.Id.ToString();
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
