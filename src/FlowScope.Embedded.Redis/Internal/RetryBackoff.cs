namespace FlowScope.Embedded.Redis.Internal;

/// <summary>
/// Exponential backoff with full jitter: the delay before attempt n+1 is uniform in [0, min(max, base·2^(n-1))),
/// so instances that lost Redis together do not come back in lockstep.
/// </summary>
internal static class RetryBackoff
{
    public static TimeSpan Ceiling(int failedAttempts, TimeSpan baseDelay, TimeSpan maxDelay)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(failedAttempts, 1);
        // 2^30 already exceeds any sensible cap; limiting the exponent keeps the arithmetic finite.
        var exponent = Math.Min(failedAttempts - 1, 30);
        var ceiling = baseDelay.Ticks * Math.Pow(2, exponent);
        return ceiling >= maxDelay.Ticks ? maxDelay : TimeSpan.FromTicks((long)ceiling);
    }

    public static TimeSpan Next(int failedAttempts, TimeSpan baseDelay, TimeSpan maxDelay, Random random) =>
        TimeSpan.FromTicks((long)(random.NextDouble() * Ceiling(failedAttempts, baseDelay, maxDelay).Ticks));
}
