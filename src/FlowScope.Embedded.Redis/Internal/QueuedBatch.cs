namespace FlowScope.Embedded.Redis.Internal;

/// <summary>What a shard's writer thread receives: one entry's payload, already serialized by the caller.</summary>
internal readonly record struct QueuedBatch(EncodedSpans Encoded, long Timestamp)
{
    public int Count => Encoded.SpanCount;
}

/// <summary>
/// Spans of one shard's traces as one entry payload: a serialized <see cref="Storage.SpanBatch"/> (see docs/redis.md),
/// compressed by the writer thread when <see cref="RedisStreamsOptions.Compress"/> is on.
/// </summary>
/// <param name="Payload">The entry's payload bytes (the <c>d</c> field).</param>
/// <param name="SpanCount">How many spans the payload holds (the <c>n</c> field, and the accounting).</param>
/// <param name="Compressed">Whether the payload is already deflate-compressed (the <c>c</c> field).</param>
internal sealed record EncodedSpans(byte[] Payload, int SpanCount, bool Compressed);
