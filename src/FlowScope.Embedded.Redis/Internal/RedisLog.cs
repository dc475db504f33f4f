using Microsoft.Extensions.Logging;

namespace FlowScope.Embedded.Redis.Internal;

/// <summary>FlowScope.Redis log messages, with stable event ids (100–199, apart from the core's).</summary>
internal static partial class RedisLog
{
    [LoggerMessage(100, LogLevel.Information, "FlowScope Redis persistence is not configured (FlowScope:Redis:ConnectionString is empty); traces stay in memory.")]
    public static partial void NotConfigured(ILogger logger);

    [LoggerMessage(101, LogLevel.Information, "FlowScope persists spans to Redis stream {StreamKey} ({Shards} shards in all) as instance {Instance}.")]
    public static partial void Started(ILogger logger, string streamKey, int shards, string instance);

    [LoggerMessage(102, LogLevel.Warning, "FlowScope could not connect to Redis at {Endpoint} at start; spans are kept for retry and the connection is retried in the background.")]
    public static partial void NotConnectedAtStart(ILogger logger, string endpoint);

    [LoggerMessage(103, LogLevel.Warning, "FlowScope lost its Redis connection to {Endpoint} ({FailureType}).")]
    public static partial void ConnectionFailed(ILogger logger, string? endpoint, string failureType);

    [LoggerMessage(104, LogLevel.Information, "FlowScope's Redis connection to {Endpoint} is restored.")]
    public static partial void ConnectionRestored(ILogger logger, string? endpoint);

    [LoggerMessage(105, LogLevel.Warning, "FlowScope could not write spans to Redis; they wait in the retry buffer (attempt {Attempt}). Further failures are counted, not logged, until a write succeeds.")]
    public static partial void WriteFailed(ILogger logger, Exception exception, int attempt);

    [LoggerMessage(106, LogLevel.Information, "FlowScope writes to Redis again after {Attempts} failed attempts.")]
    public static partial void WriteRecovered(ILogger logger, int attempts);

    [LoggerMessage(107, LogLevel.Warning, "FlowScope dropped spans bound for Redis: the {Buffer} is full (capacity {Capacity} spans). Further drops are counted, not logged.")]
    public static partial void Dropped(ILogger logger, string buffer, int capacity);

    [LoggerMessage(108, LogLevel.Warning, "FlowScope could not decode Redis stream entry {EntryId}; it was skipped and counted. Further bad entries are counted, not logged.")]
    public static partial void BadEntry(ILogger logger, Exception? exception, string entryId);

    [LoggerMessage(109, LogLevel.Warning, "FlowScope's Redis reader failed; it retries. Further failures are counted, not logged, until a read succeeds.")]
    public static partial void ReadFailed(ILogger logger, Exception exception);

    [LoggerMessage(110, LogLevel.Warning, "FlowScope's Redis consumer group processing failed; it retries. Further failures are counted, not logged, until processing succeeds.")]
    public static partial void IndexFailed(ILogger logger, Exception exception);

    [LoggerMessage(111, LogLevel.Warning, "FlowScope stopped with {Count} spans not yet persisted to Redis; they were counted as dropped.")]
    public static partial void UnpersistedAtShutdown(ILogger logger, long count);

    [LoggerMessage(112, LogLevel.Information, "FlowScope reclaimed {Claimed} pending entries from crashed consumers; {Deleted} had been trimmed from the stream.")]
    public static partial void Reclaimed(ILogger logger, int claimed, int deleted);

    [LoggerMessage(113, LogLevel.Warning, "FlowScope's Redis is a cluster, but its keys ({KeyPrefix}:…) have no hash tag and one shard: the consumer group's index cannot work across slots. Set FlowScope:Redis:Shards to the number of masters (or more), or use a hash-tagged KeyPrefix such as {{flowscope}}.")]
    public static partial void ClusterWithoutShards(ILogger logger, string keyPrefix);

    [LoggerMessage(114, LogLevel.Warning, "FlowScope could not copy a kept trace to Redis; kept copies are retried with the next trace and counted as failed.")]
    public static partial void KeptCopyFailed(ILogger logger, Exception exception);
}
