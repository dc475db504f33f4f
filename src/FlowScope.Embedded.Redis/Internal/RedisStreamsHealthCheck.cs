using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace FlowScope.Embedded.Redis.Internal;

/// <summary>
/// Reports the writer's state: healthy while connected and writing, degraded while disconnected or retrying,
/// unhealthy when the retry buffer is nearly full (spans are about to be dropped). FlowScope never takes the app
/// down, so this check only informs.
/// </summary>
internal sealed class RedisStreamsHealthCheck(RedisStreamsRuntime runtime) : IHealthCheck
{
    /// <summary>The retry buffer fill from which the check reports unhealthy.</summary>
    internal const double UnhealthyRetryFill = 0.9;

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (runtime.Writer is not { } writer)
        {
            return Task.FromResult(HealthCheckResult.Healthy("Redis persistence is not configured; traces stay in memory."));
        }

        var stats = writer.GetStats();
        var connected = runtime.Connection?.IsConnected == true;
        var fill = stats.RetryBufferCapacity == 0 ? 0 : (double)stats.Retrying / stats.RetryBufferCapacity;
        var data = new Dictionary<string, object>
        {
            ["connected"] = connected,
            ["lagSeconds"] = Math.Round(stats.Lag.TotalSeconds, 3),
            ["retryBufferFill"] = Math.Round(fill, 3),
            ["persisted"] = stats.Persisted,
            ["waiting"] = stats.Waiting,
            ["dropped"] = stats.Dropped,
        };

        var result = fill >= UnhealthyRetryFill
            ? HealthCheckResult.Unhealthy("FlowScope's Redis retry buffer is nearly full; spans are being dropped.", data: data)
            : !connected || stats.ConsecutiveFailures > 0
                ? HealthCheckResult.Degraded("FlowScope cannot write to Redis; spans wait in the retry buffer.", data: data)
                : HealthCheckResult.Healthy("FlowScope writes spans to Redis.", data);
        return Task.FromResult(result);
    }
}
