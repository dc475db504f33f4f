namespace FlowScope.Embedded.Queues.Internal;

/// <summary>Exponential backoff with full jitter: a random delay in [0, min(max, base × 2^(attempt-1))).</summary>
internal static class Backoff
{
    /// <param name="failedAttempt">The attempt that just failed, starting at 1.</param>
    /// <param name="baseDelay">The first ceiling.</param>
    /// <param name="maxDelay">The largest ceiling.</param>
    /// <param name="random">A uniformly distributed number in [0, 1).</param>
    public static TimeSpan Compute(int failedAttempt, TimeSpan baseDelay, TimeSpan maxDelay, double random)
    {
        var exponent = Math.Min(Math.Max(failedAttempt - 1, 0), 62);
        var ceiling = Math.Min(maxDelay.TotalMilliseconds, baseDelay.TotalMilliseconds * Math.Pow(2, exponent));
        return TimeSpan.FromMilliseconds(Math.Max(0, ceiling * Math.Clamp(random, 0, 1)));
    }
}
