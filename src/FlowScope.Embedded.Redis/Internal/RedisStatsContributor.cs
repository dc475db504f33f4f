using FlowScope.Embedded.Dashboard;

namespace FlowScope.Embedded.Redis.Internal;

/// <summary>Shows the Redis writer's accounting in <c>api/stats</c>: every span is persisted, waiting or dropped (all shards together).</summary>
internal sealed class RedisStatsContributor(RedisStreamsRuntime runtime) : IStatsContributor
{
    public string Name => "redis";

    public IReadOnlyDictionary<string, double> GetStats()
    {
        if (runtime.Writer is not { } writer)
        {
            return new Dictionary<string, double>();
        }

        var stats = writer.GetStats();
        var kept = runtime.Kept?.GetStats();
        var values = new Dictionary<string, double>
        {
            ["produced"] = stats.Produced,
            ["persisted"] = stats.Persisted,
            ["waiting"] = stats.Waiting,
            ["retrying"] = stats.Retrying,
            ["dropped"] = stats.Dropped,
            ["entriesWritten"] = stats.EntriesWritten,
            ["failedWrites"] = stats.FailedWrites,
            ["consecutiveFailures"] = stats.ConsecutiveFailures,
            ["lagMs"] = Math.Round(stats.Lag.TotalMilliseconds, 1),
            ["retryBufferCapacity"] = stats.RetryBufferCapacity,
            ["shards"] = writer.Layout.Count,
        };
        if (kept is not null)
        {
            // Copies of error and slow traces in the kept streams (outside the accounting above: they are copies).
            values["keptCopied"] = kept.Copied;
            values["keptDropped"] = kept.Dropped;
            values["keptFailed"] = kept.Failed;
            values["keptMissing"] = kept.Missing;
        }

        return values;
    }
}
