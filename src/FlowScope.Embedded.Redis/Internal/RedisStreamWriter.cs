using System.Buffers;
using FlowScope.Embedded.Redis.Sharding;
using FlowScope.Embedded.Storage;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace FlowScope.Embedded.Redis.Internal;

/// <summary>
/// Persists spans to the shards' streams. <see cref="TryEnqueue(IReadOnlyList{SpanRecord})"/> is all the pump ever
/// calls: it sorts a batch by the shard of each span's trace, copies each part into that shard's bounded queue and
/// returns. Each shard has its own writer (<see cref="RedisShardWriter"/>) on a thread of its own, so a shard whose
/// Redis node is slow or down never holds the others back. Every span is counted as persisted, waiting or dropped.
/// </summary>
internal sealed class RedisStreamWriter
{
    private readonly RedisShardWriter[] _shards;
    private readonly TimeProvider _time;
    private long _sequence;

    public RedisStreamWriter(RedisStreamsOptions options, RedisConnection connection, string instance, string runId, TimeProvider time, ILogger logger, Random? random = null)
        : this(options, options.CreateLayout(), connection, instance, runId, time, logger, random)
    {
    }

    public RedisStreamWriter(RedisStreamsOptions options, RedisKeyLayout layout, RedisConnection connection, string instance, string runId, TimeProvider time, ILogger logger, Random? random = null)
    {
        Layout = layout;
        RunId = runId;
        _time = time;
        var wakeUp = RedisChannel.Literal(layout.WakeUpChannel);
        _shards = new RedisShardWriter[layout.Count];
        for (var i = 0; i < _shards.Length; i++)
        {
            _shards[i] = new RedisShardWriter(options, connection, layout[i], wakeUp, layout.Count, instance, runId, NextSequence, time, logger, random ?? Random.Shared);
        }
    }

    /// <summary>Gets the id of this process run; every batch id starts with it, so readers recognise their own entries.</summary>
    public string RunId { get; }

    public RedisKeyLayout Layout { get; }

    internal IReadOnlyList<RedisShardWriter> Shards => _shards;

    /// <summary>Gets the UTC ticks of the earliest retry attempt any shard has scheduled, or 0 when none is.</summary>
    internal long NextAttemptTicks => _shards.Select(s => s.NextAttemptTicks).Where(t => t != 0).DefaultIfEmpty(0).Min();

    /// <summary>
    /// Hands spans to the writers without waiting: each span goes to the shard of its trace. Returns
    /// <see langword="false"/> when some were dropped (a queue full or the writer stopped).
    /// </summary>
    public bool TryEnqueue(IReadOnlyList<SpanRecord> spans)
    {
        var count = spans.Count;
        if (count == 0)
        {
            return true;
        }

        // The pump reuses its list after AddAsync returns: every shard gets a copy of its part.
        var timestamp = _time.GetTimestamp();
        if (_shards.Length == 1)
        {
            var copy = new SpanRecord[count];
            for (var i = 0; i < count; i++)
            {
                copy[i] = spans[i];
            }

            return _shards[0].TryEnqueue(new QueuedBatch(copy, null, timestamp));
        }

        return EnqueueSharded(spans, timestamp);
    }

    /// <summary>
    /// Hands an already encoded batch to shard <paramref name="shard"/> without waiting; the caller chose the shard
    /// from its traces' ids (<see cref="RedisKeyLayout.ShardOf"/>). Returns <see langword="false"/> when it was dropped.
    /// </summary>
    internal bool TryEnqueue(int shard, EncodedSpans batch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(shard);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(shard, _shards.Length);
        return _shards[shard].TryEnqueue(new QueuedBatch(null, batch, _time.GetTimestamp()));
    }

    private bool EnqueueSharded(IReadOnlyList<SpanRecord> spans, long timestamp)
    {
        var count = spans.Count;
        var shardOf = ArrayPool<byte>.Shared.Rent(count);
        try
        {
            Span<int> sizes = stackalloc int[_shards.Length];
            string? lastTrace = null;
            var lastShard = 0;
            for (var i = 0; i < count; i++)
            {
                // A trace's spans usually come together: its shard is computed once.
                var traceId = spans[i].TraceId;
                if (!ReferenceEquals(traceId, lastTrace) && !string.Equals(traceId, lastTrace, StringComparison.Ordinal))
                {
                    lastTrace = traceId;
                    lastShard = RedisKeyLayout.ShardOf(traceId, _shards.Length);
                }

                shardOf[i] = (byte)lastShard;
                sizes[lastShard]++;
            }

            var parts = new SpanRecord[_shards.Length][];
            for (var s = 0; s < parts.Length; s++)
            {
                parts[s] = sizes[s] == 0 ? [] : new SpanRecord[sizes[s]];
                sizes[s] = 0;
            }

            for (var i = 0; i < count; i++)
            {
                var s = shardOf[i];
                parts[s][sizes[s]++] = spans[i];
            }

            var all = true;
            for (var s = 0; s < parts.Length; s++)
            {
                if (parts[s].Length > 0)
                {
                    all &= _shards[s].TryEnqueue(new QueuedBatch(parts[s], null, timestamp));
                }
            }

            return all;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(shardOf);
        }
    }

    private long NextSequence() => Interlocked.Increment(ref _sequence);

    /// <summary>No more spans are accepted; <see cref="RunAsync"/> writes what is left and completes.</summary>
    public void Complete()
    {
        foreach (var shard in _shards)
        {
            shard.Complete();
        }
    }

    /// <summary>The sum of the shards' accounting; each shard's part is an exact snapshot, so the sum's identity is exact too.</summary>
    public RedisWriterStats GetStats() => RedisWriterStats.Sum(_shards.Select(s => s.GetStats()));

    /// <summary>
    /// Starts one writer thread per shard. The returned task completes when every one has stopped: after
    /// <see cref="Complete"/>, once everything is written, or when <paramref name="abort"/> fires (what is left is
    /// counted as dropped).
    /// </summary>
    public Task RunAsync(CancellationToken abort) => Task.WhenAll(_shards.Select(shard => StartThread(shard, abort)));

    private static Task StartThread(RedisShardWriter shard, CancellationToken abort)
    {
        var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                shard.Run(abort);
                stopped.TrySetResult();
            }
            catch (Exception ex)
            {
                // Never let an exception escape a thread of FlowScope's own: it would end the app's process.
                stopped.TrySetException(ex);
            }
        })
        {
            IsBackground = true,
            Name = $"FlowScope Redis writer {shard.Keys.Index}",
        };

        // No execution context from the starter (its Activity.Current, its async locals) flows into the writer.
        thread.UnsafeStart();
        return stopped.Task;
    }
}
