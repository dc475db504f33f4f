using FlowScope.Embedded.Storage;

namespace FlowScope.Embedded.Redis.Internal;

/// <summary>
/// What the writer thread receives: spans still to be packed and encoded (<see cref="Spans"/>), or an opaque payload
/// already encoded by the caller (<see cref="Encoded"/>), written as one entry as it is.
/// </summary>
internal readonly record struct QueuedBatch(SpanRecord[]? Spans, EncodedSpans? Encoded, long Timestamp)
{
    public int Count => Spans?.Length ?? Encoded!.SpanCount;
}

/// <summary>
/// A batch of spans already encoded as one entry payload (format version 1, see docs/redis.md), all of one shard's
/// traces. The writer stores it as one stream entry without looking inside.
/// </summary>
/// <param name="Payload">The entry's payload bytes (the <c>d</c> field).</param>
/// <param name="SpanCount">How many spans the payload holds (the <c>n</c> field, and the accounting).</param>
/// <param name="Compressed">Whether the payload is deflate-compressed (the <c>c</c> field).</param>
internal sealed record EncodedSpans(byte[] Payload, int SpanCount, bool Compressed);
