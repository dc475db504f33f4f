namespace FlowScope.Embedded.Queues.Internal;

/// <summary>The most recent queue wait times (a fixed ring), from which percentiles are computed on demand.</summary>
internal sealed class WaitSamples
{
    private readonly Lock _lock = new();
    private readonly double[] _ring;
    private int _next;
    private int _count;

    public WaitSamples(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _ring = new double[capacity];
    }

    public void Add(double milliseconds)
    {
        lock (_lock)
        {
            _ring[_next] = milliseconds;
            _next = (_next + 1) % _ring.Length;
            if (_count < _ring.Length)
            {
                _count++;
            }
        }
    }

    /// <summary>Gets the given percentiles (0–100) of the samples, nearest-rank; zeros when there are none.</summary>
    public (double P50, double P95) Percentiles()
    {
        double[] copy;
        lock (_lock)
        {
            copy = _ring.AsSpan(0, _count).ToArray();
        }

        if (copy.Length == 0)
        {
            return (0, 0);
        }

        Array.Sort(copy);
        return (NearestRank(copy, 50), NearestRank(copy, 95));
    }

    private static double NearestRank(double[] sorted, double percentile)
    {
        var rank = (int)Math.Ceiling(percentile / 100 * sorted.Length);
        return Math.Round(sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)], 3);
    }
}
