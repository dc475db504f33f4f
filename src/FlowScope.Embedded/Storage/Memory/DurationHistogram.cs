namespace FlowScope.Embedded.Storage.Memory;

/// <summary>
/// A route's recent durations as a small log-scale histogram (buckets 25 % apart, from 10 µs to about 9 minutes),
/// halved every 4 096 durations so it follows current behaviour: enough for a running median and p99 in 328 bytes.
/// Not thread-safe.
/// </summary>
internal sealed class DurationHistogram
{
    internal const int Buckets = 82;
    private const double Floor = 100; // ticks: 10 µs
    private const int HalveEvery = 4_096;
    private static readonly double s_logStep = Math.Log(1.25);

    private readonly int[] _counts = new int[Buckets];
    private int _total;
    private int _sinceHalving;

    public void Add(long ticks)
    {
        _counts[BucketOf(ticks)]++;
        _total++;
        if (++_sinceHalving == HalveEvery)
        {
            _sinceHalving = 0;
            _total = 0;
            for (var i = 0; i < _counts.Length; i++)
            {
                _counts[i] >>= 1;
                _total += _counts[i];
            }
        }
    }

    /// <summary>Whether <paramref name="ticks"/> lies in or above the bucket of the p99 and beyond twice the median.</summary>
    public bool IsOutlier(long ticks)
    {
        if (_total == 0)
        {
            return false;
        }

        var bucket = BucketOf(ticks);
        return bucket >= BucketAt(0.99) && ticks > 2 * LowerBound(BucketAt(0.5) + 1);
    }

    /// <summary>The bucket holding the <paramref name="quantile"/> of the recorded durations.</summary>
    private int BucketAt(double quantile)
    {
        var rank = (long)Math.Ceiling(quantile * _total);
        long seen = 0;
        for (var i = 0; i < _counts.Length; i++)
        {
            seen += _counts[i];
            if (seen >= rank)
            {
                return i;
            }
        }

        return _counts.Length - 1;
    }

    private static int BucketOf(long ticks) =>
        ticks <= Floor ? 0 : Math.Min(Buckets - 1, 1 + (int)(Math.Log(ticks / Floor) / s_logStep));

    /// <summary>The smallest duration (ticks) bucket <paramref name="bucket"/> holds.</summary>
    private static double LowerBound(int bucket) => bucket == 0 ? 0 : Floor * Math.Pow(1.25, bucket - 1);
}
