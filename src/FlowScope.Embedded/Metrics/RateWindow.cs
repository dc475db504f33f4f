namespace FlowScope.Embedded.Metrics;

/// <summary>Counts per second over the last minute (a ring of one-second buckets keyed by time): requests, components, queues. Not thread-safe.</summary>
internal sealed class RateWindow
{
    private const int Seconds = 60;
    private readonly long[] _bucketSecond = new long[Seconds];
    private readonly long[] _counts = new long[Seconds];
    private readonly long[] _errors = new long[Seconds];

    // The second the last Add fell into, as a range of UTC ticks, and its slot: most calls land in the same second,
    // so they need no division.
    private long _lastSecondStart = long.MaxValue;
    private long _lastSecond;
    private int _lastSlot;

    public void Add(DateTimeOffset time, bool error) => Add(time.UtcTicks, error);

    /// <summary>Counts one event at <paramref name="utcTicks"/> (UTC ticks, as <see cref="DateTimeOffset.UtcTicks"/>).</summary>
    public void Add(long utcTicks, bool error)
    {
        int slot;
        long second;
        if ((ulong)(utcTicks - _lastSecondStart) < TimeSpan.TicksPerSecond)
        {
            slot = _lastSlot;
            second = _lastSecond;
        }
        else
        {
            second = new DateTimeOffset(utcTicks, TimeSpan.Zero).ToUnixTimeSeconds();
            slot = (int)(second % Seconds);
            _lastSecond = second;
            _lastSlot = slot;
            _lastSecondStart = DateTimeOffset.UnixEpoch.UtcTicks + (second * TimeSpan.TicksPerSecond);
        }

        if (_bucketSecond[slot] != second)
        {
            _bucketSecond[slot] = second;
            _counts[slot] = 0;
            _errors[slot] = 0;
        }

        _counts[slot]++;
        if (error)
        {
            _errors[slot]++;
        }
    }

    /// <summary>Events per second over the <paramref name="window"/> seconds before <paramref name="now"/>.</summary>
    public (double PerSecond, long Count, long Errors) Over(DateTimeOffset now, int window)
    {
        var current = now.ToUnixTimeSeconds();
        long count = 0, errors = 0;
        for (var i = 0; i < Seconds; i++)
        {
            var age = current - _bucketSecond[i];
            if (age >= 0 && age < window)
            {
                count += _counts[i];
                errors += _errors[i];
            }
        }

        return (Math.Round(count / (double)window, 3), count, errors);
    }
}
