using System.Buffers;
using System.Globalization;
using System.Threading.Channels;
using FlowScope.Embedded.Capture;
using FlowScope.Embedded.Storage;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace FlowScope.Embedded.Redis.Internal;

/// <summary>
/// Persists spans to the stream from one background loop. <see cref="TryEnqueue"/> is all the pump ever calls: it
/// copies the batch into a bounded queue and returns. The loop packs queued spans into entries, writes them with
/// <c>XADD … MAXLEN ~</c>, keeps failed entries in a bounded retry buffer and retries with exponential backoff and
/// full jitter. Every span is counted as persisted, waiting or dropped (<see cref="RedisWriterStats"/>).
/// </summary>
internal sealed class RedisStreamWriter
{
    /// <summary>How many XADDs are pipelined on the connection at once.</summary>
    internal const int MaxInFlight = 8;

    private readonly RedisStreamsOptions _options;
    private readonly RedisConnection _connection;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Random _random;
    private readonly string _instance;
    private readonly Channel<QueuedBatch> _queue = Channel.CreateUnbounded<QueuedBatch>(new UnboundedChannelOptions { SingleReader = true });
    private readonly List<PackedBatch> _pending = [];
    private readonly List<(PackedBatch Batch, Task<RedisValue> Write)> _inFlight = new(MaxInFlight);
    private readonly ArrayBufferWriter<byte> _serialized = new(64 * 1024);
    private readonly List<int> _chunk = [];
    private readonly RedisKey _streamKey;
    private readonly RedisChannel _wakeUpChannel;

    private long _produced;
    private long _persisted;
    private long _waiting;
    private long _queued;
    private long _retrying;
    private long _droppedQueueFull;
    private long _droppedRetryOverflow;
    private long _droppedAtShutdown;
    private long _entriesWritten;
    private long _failedWrites;
    private long _sequence;
    private long _oldestWaitingTimestamp;
    private long _nextAttemptTicks;
    private int _consecutiveFailures;
    private int _pendingSpans;
    private int _queueFullLogged;
    private bool _overflowLogged;
    private DateTimeOffset _nextTrim;

    public RedisStreamWriter(RedisStreamsOptions options, RedisConnection connection, string instance, string runId, TimeProvider time, ILogger logger, Random? random = null)
    {
        _options = options;
        _connection = connection;
        _instance = instance;
        RunId = runId;
        _time = time;
        _logger = logger;
        _random = random ?? Random.Shared;
        _streamKey = options.StreamKey;
        _wakeUpChannel = RedisChannel.Literal(options.WakeUpChannel);
    }

    /// <summary>Gets the id of this process run; every batch id starts with it, so readers recognise their own entries.</summary>
    public string RunId { get; }

    /// <summary>Gets the UTC ticks of the next retry attempt, or 0 when no retry is scheduled.</summary>
    internal long NextAttemptTicks => Interlocked.Read(ref _nextAttemptTicks);

    /// <summary>
    /// Hands spans to the writer without waiting: the batch is written out (serialized, in entries of at most
    /// <see cref="RedisStreamsOptions.MaxSpansPerEntry"/> spans) before this returns, since the pump reuses it.
    /// Returns <see langword="false"/> when they were dropped (queue full or writer stopped).
    /// </summary>
    public bool TryEnqueue(SpanBatch batch)
    {
        var count = batch.SpanCount;
        if (count == 0)
        {
            return true;
        }

        Interlocked.Add(ref _produced, count);
        if (Interlocked.Add(ref _queued, count) > _options.WriterQueueCapacity)
        {
            Interlocked.Add(ref _queued, -count);
            DropQueueFull(count);
            return false;
        }

        Interlocked.Add(ref _waiting, count);
        var timestamp = _time.GetTimestamp();
        lock (_serialized)
        {
            _chunk.Clear();
            var spans = 0;
            for (var i = 0; i < batch.Count; i++)
            {
                _chunk.Add(i);
                spans += 1 + StageCount(batch, i);
                if (spans >= _options.MaxSpansPerEntry || i == batch.Count - 1)
                {
                    _serialized.ResetWrittenCount();
                    batch.WriteTo(_serialized, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_chunk));
                    if (!_queue.Writer.TryWrite(new QueuedBatch(_serialized.WrittenSpan.ToArray(), spans, timestamp)))
                    {
                        Interlocked.Add(ref _queued, -spans);
                        Interlocked.Add(ref _waiting, -spans);
                        DropQueueFull(spans);
                    }

                    _chunk.Clear();
                    spans = 0;
                }
            }
        }

        return true;
    }

    private static int StageCount(SpanBatch batch, int index) =>
        System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(batch.GetPayload(index)[4..]);

    private void DropQueueFull(int count)
    {
        Interlocked.Add(ref _droppedQueueFull, count);
        if (Interlocked.Exchange(ref _queueFullLogged, 1) == 0)
        {
            RedisLog.Dropped(_logger, "writer queue", _options.WriterQueueCapacity);
        }
    }

    /// <summary>No more spans are accepted; <see cref="RunAsync"/> writes what is left and returns.</summary>
    public void Complete() => _queue.Writer.TryComplete();

    public RedisWriterStats GetStats()
    {
        var oldest = Interlocked.Read(ref _oldestWaitingTimestamp);
        return new RedisWriterStats
        {
            Produced = Interlocked.Read(ref _produced),
            Persisted = Interlocked.Read(ref _persisted),
            Waiting = Interlocked.Read(ref _waiting),
            Retrying = Interlocked.Read(ref _retrying),
            DroppedQueueFull = Interlocked.Read(ref _droppedQueueFull),
            DroppedRetryOverflow = Interlocked.Read(ref _droppedRetryOverflow),
            DroppedAtShutdown = Interlocked.Read(ref _droppedAtShutdown),
            Dropped = Interlocked.Read(ref _droppedQueueFull) + Interlocked.Read(ref _droppedRetryOverflow) + Interlocked.Read(ref _droppedAtShutdown),
            EntriesWritten = Interlocked.Read(ref _entriesWritten),
            FailedWrites = Interlocked.Read(ref _failedWrites),
            ConsecutiveFailures = Volatile.Read(ref _consecutiveFailures),
            Lag = oldest == 0 || Interlocked.Read(ref _waiting) == 0 ? TimeSpan.Zero : _time.GetElapsedTime(oldest),
            RetryBufferCapacity = _options.RetryBufferCapacity,
        };
    }

    /// <summary>
    /// The writer loop. Returns when <see cref="Complete"/> was called and everything is written, or when
    /// <paramref name="abort"/> fires (what is left is counted as dropped).
    /// </summary>
    public async Task RunAsync(CancellationToken abort)
    {
        CaptureSuppression.SuppressCurrentFlow();
        System.Diagnostics.Activity.Current = null;
        var nextAttempt = 0L;
        try
        {
            while (true)
            {
                TakeQueued();
                var completed = _queue.Reader.Completion.IsCompleted;
                if (_pending.Count == 0)
                {
                    if (completed)
                    {
                        return;
                    }

                    await _queue.Reader.WaitToReadAsync(abort).ConfigureAwait(false);
                    continue;
                }

                var wait = nextAttempt == 0 ? TimeSpan.Zero : TimeSpan.FromTicks(Math.Max(0, nextAttempt - _time.GetUtcNow().UtcTicks));
                if (wait > TimeSpan.Zero && !completed)
                {
                    await WaitForDataOrDelayAsync(wait, abort).ConfigureAwait(false);
                    continue;
                }

                if (await FlushAsync().ConfigureAwait(false))
                {
                    nextAttempt = 0;
                    Interlocked.Exchange(ref _nextAttemptTicks, 0);
                }
                else if (completed)
                {
                    // Stopping and Redis is down: waiting out a backoff would only delay the host's shutdown.
                    return;
                }
                else
                {
                    var delay = RetryBackoff.Next(_consecutiveFailures, _options.RetryBaseDelay, _options.RetryMaxDelay, _random);
                    nextAttempt = _time.GetUtcNow().UtcTicks + delay.Ticks;
                    Interlocked.Exchange(ref _nextAttemptTicks, nextAttempt);
                }
            }
        }
        catch (OperationCanceledException) when (abort.IsCancellationRequested)
        {
        }
        finally
        {
            DropEverythingLeft();
        }
    }

    private async Task WaitForDataOrDelayAsync(TimeSpan wait, CancellationToken abort)
    {
        using var delayCancel = CancellationTokenSource.CreateLinkedTokenSource(abort);
        var delay = Task.Delay(wait, _time, delayCancel.Token);
        var data = _queue.Reader.WaitToReadAsync(delayCancel.Token).AsTask();
        await Task.WhenAny(delay, data).ConfigureAwait(false);
        await delayCancel.CancelAsync().ConfigureAwait(false);
        abort.ThrowIfCancellationRequested();
        // New spans during a backoff only join the retry buffer (the caller's loop packs them); the attempt time stays.
    }

    /// <summary>Moves queued batches into packed entries in the retry buffer.</summary>
    private void TakeQueued()
    {
        while (_queue.Reader.TryRead(out var queued))
        {
            Interlocked.Add(ref _queued, -queued.SpanCount);
            Seal(queued);
        }
    }

    private void Seal(QueuedBatch queued)
    {
        var count = queued.SpanCount;
        var batchId = string.Create(CultureInfo.InvariantCulture, $"{RunId}-{++_sequence}");
        var payload = _options.Compress ? StreamEntryFormat.Compress(queued.Serialized) : queued.Serialized;
        var batch = new PackedBatch(batchId, count, payload, _options.Compress, queued.Timestamp);

        // The retry buffer holds at most RetryBufferCapacity spans: the oldest entries make room for the newest.
        while (_pendingSpans + count > _options.RetryBufferCapacity)
        {
            // Entries being written are not evicted (they may be persisted a moment later); the buffer can exceed
            // its capacity by at most the in-flight window meanwhile.
            var index = _pending.FindIndex(static b => !b.InFlight);
            if (index < 0)
            {
                break;
            }

            var victim = _pending[index];
            _pending.RemoveAt(index);
            _pendingSpans -= victim.SpanCount;
            Interlocked.Add(ref _droppedRetryOverflow, victim.SpanCount);
            Interlocked.Add(ref _waiting, -victim.SpanCount);
            if (victim.Attempts > 0)
            {
                Interlocked.Add(ref _retrying, -victim.SpanCount);
            }

            if (!_overflowLogged)
            {
                _overflowLogged = true;
                RedisLog.Dropped(_logger, "retry buffer", _options.RetryBufferCapacity);
            }
        }

        _pending.Add(batch);
        _pendingSpans += count;
        UpdateOldest();
    }

    private void UpdateOldest() =>
        Interlocked.Exchange(ref _oldestWaitingTimestamp, _pending.Count > 0 ? _pending[0].EnqueuedTimestamp : 0);

    /// <summary>Writes the retry buffer in order. Returns <see langword="false"/> at the first failure.</summary>
    private async Task<bool> FlushAsync()
    {
        IDatabase database;
        try
        {
            database = (await _connection.GetAsync().ConfigureAwait(false)).GetDatabase();
        }
        catch (Exception ex)
        {
            OnFailure(ex);
            return false;
        }

        RedisValue lastId = RedisValue.Null;
        while (_pending.Count > 0)
        {
            // Pipelined: several entries in flight on the one connection (Redis applies them in order), and the next
            // spans are packed while the replies travel.
            _inFlight.Clear();
            for (var i = 0; i < _pending.Count && i < MaxInFlight; i++)
            {
                var batch = _pending[i];
                batch.InFlight = true;
                _inFlight.Add((batch, database.StreamAddAsync(
                    _streamKey,
                    StreamEntryFormat.Create(batch, _instance),
                    messageId: null,
                    maxLength: _options.MaxStreamEntries,
                    useApproximateMaxLength: true)));
            }

            TakeQueued();
            Exception? failure = null;
            foreach (var (batch, write) in _inFlight)
            {
                try
                {
                    lastId = await write.ConfigureAwait(false);
                }
                catch (Exception ex)
                {
                    batch.InFlight = false;
                    // A timed-out XADD may still have been applied; the retry writes the same batch id and readers drop the copy.
                    failure ??= ex;
                    continue;
                }

                batch.InFlight = false;
                _pending.Remove(batch);
                _pendingSpans -= batch.SpanCount;
                Interlocked.Add(ref _persisted, batch.SpanCount);
                Interlocked.Add(ref _waiting, -batch.SpanCount);
                Interlocked.Increment(ref _entriesWritten);
                if (batch.Attempts > 0)
                {
                    Interlocked.Add(ref _retrying, -batch.SpanCount);
                }
            }

            UpdateOldest();
            if (failure is not null)
            {
                OnFailure(failure);
                return false;
            }
        }

        var failures = Interlocked.Exchange(ref _consecutiveFailures, 0);
        if (failures > 0)
        {
            RedisLog.WriteRecovered(_logger, failures);
        }

        await PublishAndTrimAsync(database, lastId).ConfigureAwait(false);
        return true;
    }

    private async Task PublishAndTrimAsync(IDatabase database, RedisValue lastId)
    {
        try
        {
            // Wakes readers in every instance; fire-and-forget because polling covers a lost message.
            await database.PublishAsync(_wakeUpChannel, lastId, CommandFlags.FireAndForget).ConfigureAwait(false);
            if (_options.Retention is { } retention && _time.GetUtcNow() >= _nextTrim)
            {
                var now = _time.GetUtcNow();
                _nextTrim = now + TimeSpan.FromTicks(Math.Clamp(retention.Ticks / 10, TimeSpan.TicksPerSecond, TimeSpan.TicksPerMinute));
                var minId = string.Create(CultureInfo.InvariantCulture, $"{(now - retention).ToUnixTimeMilliseconds()}-0");
                // Exact, not "~": approximate trimming only drops whole radix-tree nodes, so on a stream with fewer
                // than ~100 entries per retention period it would never trim. It runs at most once per Retention/10.
                await database.StreamTrimByMinIdAsync(_streamKey, minId, useApproximateMaxLength: false).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            // The entries are written; a missed wake-up or trim is made up by polling and the next trim.
        }
    }

    private void OnFailure(Exception ex)
    {
        Interlocked.Increment(ref _failedWrites);
        foreach (var batch in _pending)
        {
            if (batch.Attempts++ == 0)
            {
                Interlocked.Add(ref _retrying, batch.SpanCount);
            }
        }

        var failures = Interlocked.Increment(ref _consecutiveFailures);
        if (failures == 1)
        {
            RedisLog.WriteFailed(_logger, ex, failures);
        }
    }

    private void DropEverythingLeft()
    {
        long left = TakeQueuedWithoutPacking();
        foreach (var batch in _pending)
        {
            left += batch.SpanCount;
            if (batch.Attempts > 0)
            {
                Interlocked.Add(ref _retrying, -batch.SpanCount);
            }
        }

        _pending.Clear();
        _pendingSpans = 0;
        if (left > 0)
        {
            Interlocked.Add(ref _droppedAtShutdown, left);
            Interlocked.Add(ref _waiting, -left);
            RedisLog.UnpersistedAtShutdown(_logger, left);
        }

        UpdateOldest();
    }

    /// <summary>Empties the queue; returns the spans it held.</summary>
    private long TakeQueuedWithoutPacking()
    {
        _queue.Writer.TryComplete();
        long taken = 0;
        while (_queue.Reader.TryRead(out var queued))
        {
            Interlocked.Add(ref _queued, -queued.SpanCount);
            taken += queued.SpanCount;
        }

        return taken;
    }

    private readonly record struct QueuedBatch(byte[] Serialized, int SpanCount, long Timestamp);
}
