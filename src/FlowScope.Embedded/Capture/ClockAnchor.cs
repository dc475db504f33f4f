using System.Diagnostics;

namespace FlowScope.Embedded.Capture;

/// <summary>
/// Turns stopwatch timestamps into UTC times without reading the wall clock for each request: one (timestamp, UTC)
/// pair read together, renewed once it is older than <see cref="RenewAfter"/>, so a wall-clock adjustment reaches new
/// requests within that time. A clock read costs ~25–30 ns on a virtual machine; requests took two before.
/// </summary>
internal static class ClockAnchor
{
    /// <summary>How long one anchor serves before it is read again.</summary>
    internal static readonly TimeSpan RenewAfter = TimeSpan.FromMilliseconds(100);

    private static readonly long s_renewAfterTimestamps = (long)(RenewAfter.TotalSeconds * Stopwatch.Frequency);
    private static readonly double s_ticksPerTimestamp = TimeSpan.TicksPerSecond / (double)Stopwatch.Frequency;
    private static Anchor s_anchor = Anchor.Now();

    /// <summary>The UTC time of <paramref name="timestamp"/>, a <see cref="Stopwatch.GetTimestamp"/> value of about now.</summary>
    public static DateTime UtcAt(long timestamp)
    {
        var anchor = Volatile.Read(ref s_anchor);
        if (timestamp - anchor.Timestamp > s_renewAfterTimestamps)
        {
            anchor = Anchor.Now();
            Volatile.Write(ref s_anchor, anchor);
        }

        return anchor.Utc.AddTicks((long)((timestamp - anchor.Timestamp) * s_ticksPerTimestamp));
    }

    private sealed class Anchor(long timestamp, DateTime utc)
    {
        public readonly long Timestamp = timestamp;
        public readonly DateTime Utc = utc;

        public static Anchor Now()
        {
            var utc = DateTime.UtcNow;
            return new Anchor(Stopwatch.GetTimestamp(), utc);
        }
    }
}
