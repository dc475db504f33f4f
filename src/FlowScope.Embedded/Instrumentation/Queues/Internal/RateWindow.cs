namespace FlowScope.Embedded.Queues.Internal;

/// <summary>
/// Counts events in one-second buckets over a sliding window, for a "per second over the last N seconds" rate.
/// A lock guards the buckets: the queue already pays far more per message than an uncontended lock.
/// </summary>
internal sealed class RateWindow
{
    private readonly Lock _lock = new();
    private readonly long[] _counts;
    private readonly long[] _seconds;

    public RateWindow(int seconds)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(seconds, 1);
        _counts = new long[seconds];
        _seconds = new long[seconds];
        Array.Fill(_seconds, long.MinValue);
    }

    public int WindowSeconds => _counts.Length;

    public void Add(DateTimeOffset now)
    {
        var second = now.ToUnixTimeSeconds();
        var index = (int)(((second % _counts.Length) + _counts.Length) % _counts.Length);
        lock (_lock)
        {
            if (_seconds[index] != second)
            {
                _seconds[index] = second;
                _counts[index] = 0;
            }

            _counts[index]++;
        }
    }

    /// <summary>Gets the events per second over the window ending at <paramref name="now"/> (the current second included).</summary>
    public double PerSecond(DateTimeOffset now)
    {
        var current = now.ToUnixTimeSeconds();
        long total = 0;
        lock (_lock)
        {
            for (var i = 0; i < _counts.Length; i++)
            {
                if (_seconds[i] > current - _counts.Length && _seconds[i] <= current)
                {
                    total += _counts[i];
                }
            }
        }

        return (double)total / _counts.Length;
    }
}
