namespace FlowScope.Embedded.Redis.Sharding;

/// <summary>
/// The keys of one shard: its stream and its part of the shared index. With more than one shard every key of a shard
/// carries the shard's hash tag, so on a Redis Cluster they share one hash slot (the index script touches several).
/// </summary>
internal sealed class RedisShardKeys
{
    public RedisShardKeys(int index, string? tag, string keyPrefix)
    {
        Index = index;
        Tag = tag;
        var root = tag is null ? keyPrefix : keyPrefix + ":{" + tag + "}";
        StreamKey = root + ":spans";
        IndexKeyPrefix = root + ":index:";
        KeptStreamKey = root + ":kept";
        Slot = RedisHashSlot.Of(StreamKey);
    }

    /// <summary>Gets the shard's number, from 0.</summary>
    public int Index { get; }

    /// <summary>Gets the shard's hash tag (without braces), or <see langword="null"/> for the single-shard layout.</summary>
    public string? Tag { get; }

    public string StreamKey { get; }

    public string IndexKeyPrefix { get; }

    /// <summary>Gets the key of the shard's kept stream: copies of error and slow traces, trimmed by age alone.</summary>
    public string KeptStreamKey { get; }

    /// <summary>Gets the hash slot of the stream (for a tagged shard: of every key of the shard).</summary>
    public int Slot { get; }

    public string TraceKey(string traceId) => IndexKeyPrefix + "trace:" + traceId;

    /// <summary>The key naming the kept-stream entry that holds a trace's copy (it expires with the copy).</summary>
    public string KeptTraceKey(string traceId) => IndexKeyPrefix + "kept:" + traceId;

    public string DoneKey(string batchId) => IndexKeyPrefix + "done:" + batchId;

    public string ComponentsKey => IndexKeyPrefix + "components";

    public string TracesByStartKey => IndexKeyPrefix + "traces";

    public override string ToString() => StreamKey;
}
