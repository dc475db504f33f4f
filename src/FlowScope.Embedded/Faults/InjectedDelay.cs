namespace FlowScope.Embedded.Faults;

/// <summary>
/// Waits out an operator's injected delay. Timers fire on a millisecond tick and can end up to a millisecond early by
/// the stopwatch that times the span, so an injected "150 ms" could show as 149.4 ms on the very span it marks; the
/// wait goes on until the provider's own timestamps say the whole delay has passed.
/// </summary>
internal static class InjectedDelay
{
    // A shorter timer would be rounded down to no wait at all.
    private static readonly TimeSpan MinimumTimer = TimeSpan.FromMilliseconds(1);

    /// <summary>Waits at least <paramref name="delay"/>, as measured by <paramref name="time"/>'s timestamps.</summary>
    public static async Task WaitAsync(TimeSpan delay, TimeProvider time, CancellationToken cancellationToken)
    {
        var start = time.GetTimestamp();
        var remaining = delay;
        while (remaining > TimeSpan.Zero)
        {
            await Task.Delay(remaining < MinimumTimer ? MinimumTimer : remaining, time, cancellationToken).ConfigureAwait(false);
            remaining = delay - time.GetElapsedTime(start);
        }
    }
}
