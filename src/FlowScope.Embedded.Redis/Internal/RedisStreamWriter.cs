using System.Buffers;
using FlowScope.Embedded.Redis.Sharding;
using FlowScope.Embedded.Storage;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace FlowScope.Embedded.Redis.Internal;

/// <summary>
/// Persists spans to the shards' streams. <see cref="TryEnqueue(SpanBatch)"/> is all the pump ever calls: it sorts a
/// batch's payloads by the shard of their trace, serializes each part into that shard's bounded queue and returns. Each shard has its own writer (<see cref="RedisShardWriter"/>) on a thread of its own, so a shard whose
/// Redis node is slow or down never holds the others back. Every span is counted as persisted, waiting or dropped.
/// </summary>
internal sealed class RedisStreamWriter
{
    private readonly RedisShardWriter[] _shards;
    private readonly Part[] _parts;
    private readonly ArrayBufferWriter<byte> _serialized = new(64 * 1024);
    private readonly int _maxSpansPerEntry;
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
        _maxSpansPerEntry = options.MaxSpansPerEntry;
        _shards = new RedisShardWriter[layout.Count];
        _parts = new Part[layout.Count];
        for (var i = 0; i < _shards.Length; i++)
        {
            _parts[i] = new Part(i);
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
    /// Hands spans to the writers without waiting: each payload goes to the shard of its trace, serialized before this
    /// returns (the pump reuses the batch), in entries of at most <see cref="RedisStreamsOptions.MaxSpansPerEntry"/>
    /// spans. Returns <see langword="false"/> when some were dropped (a queue full or the writer stopped).
    /// </summary>
    public bool TryEnqueue(SpanBatch batch)
    {
        if (batch.Count == 0)
        {
            return true;
        }

        var timestamp = _time.GetTimestamp();
        var all = true;
        lock (_serialized)
        {
            for (var s = 0; s < _parts.Length; s++)
            {
                _parts[s].Indexes.Clear();
                _parts[s].Spans = 0;
            }

            for (var i = 0; i < batch.Count; i++)
            {
                var part = _parts[_shards.Length == 1 ? 0 : RedisKeyLayout.ShardOf(batch.GetTraceId(i), _shards.Length)];
                part.Indexes.Add(i);
                part.Spans += 1 + System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(batch.GetPayload(i)[4..]);
                if (part.Spans >= _maxSpansPerEntry)
                {
                    all &= Flush(batch, part, timestamp);
                }
            }

            foreach (var part in _parts)
            {
                all &= Flush(batch, part, timestamp);
            }
        }

        return all;
    }

    /// <summary>Serializes a part's payloads as one entry for its shard.</summary>
    private bool Flush(SpanBatch batch, Part part, long timestamp)
    {
        if (part.Indexes.Count == 0)
        {
            return true;
        }

        _serialized.ResetWrittenCount();
        batch.WriteTo(_serialized, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(part.Indexes));
        var queued = _shards[part.Shard].TryEnqueue(new QueuedBatch(new EncodedSpans(_serialized.WrittenSpan.ToArray(), part.Spans, Compressed: false), timestamp));
        part.Indexes.Clear();
        part.Spans = 0;
        return queued;
    }

    /// <summary>
    /// Hands an already encoded batch to shard <paramref name="shard"/> without waiting; the caller chose the shard
    /// from its traces' ids (<see cref="RedisKeyLayout.ShardOf(string, int)"/>). Returns <see langword="false"/> when it was dropped.
    /// </summary>
    internal bool TryEnqueue(int shard, EncodedSpans batch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(shard);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(shard, _shards.Length);
        return _shards[shard].TryEnqueue(new QueuedBatch(batch, _time.GetTimestamp()));
    }

    // The payloads of one pump batch by shard, and the buffer each entry is serialized into (the pump's thread only).
    private sealed class Part(int shard)
    {
        public readonly int Shard = shard;
        public readonly List<int> Indexes = [];
        public int Spans;
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
