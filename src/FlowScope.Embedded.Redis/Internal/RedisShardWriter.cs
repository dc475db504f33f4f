using System.Diagnostics;
using System.Globalization;
using FlowScope.Embedded.Capture;
using FlowScope.Embedded.Redis.Sharding;
using FlowScope.Embedded.Storage;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace FlowScope.Embedded.Redis.Internal;

/// <summary>
/// Writes one shard's stream from a thread of its own that sleeps between batches. The pump only ever hands spans
/// over (<see cref="TryEnqueue"/>, bounded, never waits). The thread packs them into entries, keeps up to
/// <see cref="MaxInFlight"/> <c>XADD</c>s in flight on the connection and waits synchronously for the oldest: no
/// continuation of its own ever runs on the app's thread pool, so a saturated app does not slow its persistence
/// beyond the client's own reply handling (see docs/redis.md). A failed write keeps its entries in a bounded retry
/// buffer, retried after an exponential backoff with full jitter on the injected <see cref="TimeProvider"/>.
/// </summary>
internal sealed class RedisShardWriter
{
    /// <summary>How many entries may be in flight on the connection at once (a sliding window).</summary>
    internal const int MaxInFlight = 32;

    /// <summary>How often, at most, writers publish a wake-up while entries keep flowing (and at once when they stop).</summary>
    internal static readonly TimeSpan PublishInterval = TimeSpan.FromMilliseconds(50);

    private readonly RedisStreamsOptions _options;
    private readonly RedisConnection _connection;
    private readonly RedisShardKeys _keys;
    private readonly RedisChannel _wakeUpChannel;
    private readonly string _instance;
    private readonly string _runId;
    private readonly Func<long> _nextSequence;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Random _random;
    private readonly long _maxStreamEntries;
    private readonly WriterAccount _account = new();
    private readonly WakeSignal _wake = new();
    private readonly RetryBuffer _pending;
    private readonly Queue<(PackedBatch Batch, Task<RedisValue> Write)> _inFlight = new(MaxInFlight);
    private readonly ShardIntake _intake;
    private long _nextAttemptTicks;
    private int _consecutiveFailures;
    private long _lastPublish;
    private RedisValue _lastId = RedisValue.Null;
    private DateTimeOffset _nextTrim;
    private ITimer? _retryTimer;

    public RedisShardWriter(
        RedisStreamsOptions options, RedisConnection connection, RedisShardKeys keys, RedisChannel wakeUpChannel, int shardCount,
        string instance, string runId, Func<long> nextSequence, TimeProvider time, ILogger logger, Random random)
    {
        _options = options;
        _connection = connection;
        _keys = keys;
        _wakeUpChannel = wakeUpChannel;
        _instance = instance;
        _runId = runId;
        _nextSequence = nextSequence;
        _time = time;
        _logger = logger;
        _random = random;
        // The capacities and the stream length are shared by the shards, each taking an equal part.
        _intake = new ShardIntake(_account, Math.Max(1, options.WriterQueueCapacity / shardCount), _wake, logger, options.WriterQueueCapacity);
        _pending = new RetryBuffer(Math.Max(options.MaxSpansPerEntry, options.RetryBufferCapacity / shardCount), _account, logger, options.RetryBufferCapacity);
        _maxStreamEntries = Math.Max(1, (options.MaxStreamEntries + shardCount - 1) / shardCount);
    }

    public RedisShardKeys Keys => _keys;

    /// <summary>Gets the UTC ticks of the next retry attempt, or 0 when no retry is scheduled.</summary>
    internal long NextAttemptTicks => Interlocked.Read(ref _nextAttemptTicks);

    internal int RetryBufferCapacity => _pending.Capacity;

    /// <summary>Hands a batch to the writer thread without waiting. Returns <see langword="false"/> when it was dropped (queue full or writer stopped).</summary>
    public bool TryEnqueue(QueuedBatch batch) => _intake.TryEnqueue(batch);

    /// <summary>No more spans are accepted; the thread writes what is left and stops.</summary>
    public void Complete() => _intake.Complete();

    public RedisWriterStats GetStats() => _account.Snapshot(_time, _pending.Capacity, Volatile.Read(ref _consecutiveFailures));

    /// <summary>
    /// The writer loop, run on a dedicated thread. Returns when <see cref="Complete"/> was called and everything is
    /// written (or Redis fails while stopping), or when <paramref name="abort"/> fires; what is left is counted as dropped.
    /// </summary>
    public void Run(CancellationToken abort)
    {
        CaptureSuppression.SuppressCurrentFlow();
        Activity.Current = null;
        using var wakeOnAbort = abort.UnsafeRegister(static wake => ((WakeSignal)wake!).Set(), _wake);
        try
        {
            while (true)
            {
                _wake.Reset();
                var completed = TakeQueued();
                if (_pending.Count == 0)
                {
                    PublishAndTrim(force: true);
                    if (completed)
                    {
                        return;
                    }

                    _wake.Wait(abort);
                    continue;
                }

                var next = Interlocked.Read(ref _nextAttemptTicks);
                if (next != 0 && next - _time.GetUtcNow().UtcTicks is var remaining and > 0 && !completed)
                {
                    // Backing off: new spans only join the retry buffer (packed above) until the timer wakes the thread.
                    // Armed for what is left each time: a timer may fire a little before the clock reads the attempt time.
                    ArmRetryTimer(TimeSpan.FromTicks(remaining));
                    _wake.Wait(abort);
                    continue;
                }

                Interlocked.Exchange(ref _nextAttemptTicks, 0);
                if (WriteSome(abort))
                {
                    continue;
                }

                if (completed)
                {
                    // Stopping and Redis fails: waiting out a backoff would only delay the host's shutdown.
                    return;
                }

                ScheduleRetry();
            }
        }
        catch (OperationCanceledException) when (abort.IsCancellationRequested)
        {
        }
        finally
        {
            _retryTimer?.Dispose();
            DropEverythingLeft();
        }
    }

    /// <summary>Moves queued spans into packed entries in the retry buffer. Returns whether the writer was completed before the take.</summary>
    private bool TakeQueued()
    {
        var (taken, completed) = _intake.Take();
        foreach (var queued in taken)
        {
            var encoded = queued.Encoded;
            var payload = _options.Compress && !encoded.Compressed ? StreamEntryFormat.Compress(encoded.Payload) : encoded.Payload;
            _pending.Add(new PackedBatch(NewBatchId(), encoded.SpanCount, payload, _options.Compress || encoded.Compressed, queued.Timestamp));
        }

        return completed;
    }

    private string NewBatchId() => string.Create(CultureInfo.InvariantCulture, $"{_runId}-{_nextSequence()}");

    /// <summary>
    /// Writes the retry buffer with a sliding window of writes in flight, packing new spans while replies travel.
    /// Returns <see langword="true"/> when the buffer is written, <see langword="false"/> at the first failure.
    /// </summary>
    private bool WriteSome(CancellationToken abort)
    {
        if (!TryGetDatabase(abort, out var database, out var connectFailure))
        {
            OnFailure(connectFailure);
            return false;
        }

        Exception? failure = null;
        while (true)
        {
            if (failure is null)
            {
                StartWrites(database);
            }

            if (_inFlight.Count == 0)
            {
                break;
            }

            var (batch, write) = _inFlight.Dequeue();
            batch.InFlight = false;
            if (Await(write, abort) is { } error)
            {
                // A timed-out XADD may still have been applied; the retry writes the same batch id and readers drop the copy.
                failure ??= error;
            }
            else
            {
                _lastId = write.Result;
                _pending.Persisted(batch);
                if (Interlocked.Exchange(ref _consecutiveFailures, 0) is var failures and > 0)
                {
                    RedisLog.WriteRecovered(_logger, failures);
                }

                PublishAndTrim(force: false);
            }

            if (failure is null)
            {
                // Spans that arrived meanwhile join the window at once.
                _wake.Reset();
                TakeQueued();
            }
        }

        if (failure is not null)
        {
            OnFailure(failure);
            return false;
        }

        return true;
    }

    private void StartWrites(IDatabase database)
    {
        foreach (var batch in _pending.Batches)
        {
            if (_inFlight.Count >= MaxInFlight)
            {
                return;
            }

            if (batch.InFlight)
            {
                continue;
            }

            batch.InFlight = true;
            _inFlight.Enqueue((batch, database.StreamAddAsync(
                _keys.StreamKey,
                StreamEntryFormat.Create(batch, _instance),
                messageId: null,
                maxLength: _maxStreamEntries,
                useApproximateMaxLength: true)));
        }
    }

    /// <summary>
    /// Waits on this thread for a reply. <see cref="Task.Wait(TimeSpan, CancellationToken)"/> is woken directly by the
    /// thread that completes the task (never through the thread pool). The client times the command out itself;
    /// the bound here is only a safety net.
    /// </summary>
    private Exception? Await(Task write, CancellationToken abort)
    {
        try
        {
            if (!write.Wait(_options.OperationTimeout + _options.ConnectTimeout + TimeSpan.FromSeconds(5), abort))
            {
                return new TimeoutException($"No reply from Redis for a write to {_keys.StreamKey}.");
            }

            return null;
        }
        catch (AggregateException ex)
        {
            return ex.InnerException ?? ex;
        }
    }

    private bool TryGetDatabase(CancellationToken abort, out IDatabase database, out Exception failure)
    {
        database = null!;
        failure = null!;
        var connecting = _connection.GetAsync();
        try
        {
            if (!connecting.Wait(_options.ConnectTimeout + TimeSpan.FromSeconds(5), abort))
            {
                failure = new TimeoutException("Connecting to Redis took too long.");
                return false;
            }

            database = connecting.Result.GetDatabase();
            return true;
        }
        catch (AggregateException ex)
        {
            failure = ex.InnerException ?? ex;
            return false;
        }
    }

    private void PublishAndTrim(bool force)
    {
        if (_lastId.IsNull || (!force && _time.GetElapsedTime(_lastPublish) < PublishInterval))
        {
            return;
        }

        var lastId = _lastId;
        _lastId = RedisValue.Null;
        _lastPublish = _time.GetTimestamp();
        if (!_connection.TryGetMultiplexer(out var multiplexer))
        {
            return;
        }

        try
        {
            // Wakes readers in every instance; fire-and-forget because polling covers a lost message.
            var database = multiplexer.GetDatabase();
            database.Publish(_wakeUpChannel, lastId, CommandFlags.FireAndForget);
            if (_options.Retention is { } retention && _time.GetUtcNow() >= _nextTrim)
            {
                var now = _time.GetUtcNow();
                _nextTrim = now + TimeSpan.FromTicks(Math.Clamp(retention.Ticks / 10, TimeSpan.TicksPerSecond, TimeSpan.TicksPerMinute));
                var minId = string.Create(CultureInfo.InvariantCulture, $"{(now - retention).ToUnixTimeMilliseconds()}-0");
                // Exact, not "~": approximate trimming only drops whole radix-tree nodes, so on a stream with fewer
                // than ~100 entries per retention period it would never trim. It runs at most once per Retention/10.
                database.StreamTrimByMinId(_keys.StreamKey, minId, useApproximateMaxLength: false, flags: CommandFlags.FireAndForget);
            }
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
        {
            // The entries are written; a missed wake-up or trim is made up by polling and the next trim.
        }
    }

    private void OnFailure(Exception ex)
    {
        _account.Failed(_pending.MarkAttempted());
        var failures = Interlocked.Increment(ref _consecutiveFailures);
        if (failures == 1)
        {
            RedisLog.WriteFailed(_logger, ex, failures);
        }
    }

    private void ScheduleRetry()
    {
        var delay = RetryBackoff.Next(Volatile.Read(ref _consecutiveFailures), _options.RetryBaseDelay, _options.RetryMaxDelay, _random);
        Interlocked.Exchange(ref _nextAttemptTicks, _time.GetUtcNow().UtcTicks + Math.Max(1, delay.Ticks));
    }

    private void ArmRetryTimer(TimeSpan dueIn)
    {
        _retryTimer ??= _time.CreateTimer(static state => ((WakeSignal)state!).Set(), _wake, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _retryTimer.Change(dueIn, Timeout.InfiniteTimeSpan);
    }

    private void DropEverythingLeft()
    {
        lock (_account.Sync)
        {
            var (left, retrying) = _pending.Clear();
            left += _intake.CloseLocked();
            _inFlight.Clear();
            if (left > 0)
            {
                _account.DroppedAtShutdownLocked(left, retrying);
                RedisLog.UnpersistedAtShutdown(_logger, left);
            }
        }
    }
}
