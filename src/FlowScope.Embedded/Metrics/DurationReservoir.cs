namespace FlowScope.Embedded.Metrics;

/// <summary>The most recent durations (a fixed ring), for percentiles that follow current behaviour: requests, components, queue waits. Not thread-safe.</summary>
internal sealed class DurationReservoir(int capacity = 512)
{
    private readonly double[] _values = new double[capacity];
    private int _next;
    private int _count;

    public void Add(double milliseconds)
    {
        var values = _values;
        var next = _next;
        values[next] = milliseconds;
        // Called for every span and stage: a compare instead of a division.
        _next = ++next == values.Length ? 0 : next;
        if (_count < values.Length)
        {
            _count++;
        }
    }

    /// <summary>Percentiles (0–100) of the held values, by the nearest-rank method; 0 when empty.</summary>
    public double[] Percentiles(params double[] percentiles)
    {
        var result = new double[percentiles.Length];
        if (_count == 0)
        {
            return result;
        }

        var sorted = _values.AsSpan(0, _count).ToArray();
        Array.Sort(sorted);
        for (var i = 0; i < percentiles.Length; i++)
        {
            var rank = (int)Math.Ceiling(percentiles[i] / 100 * sorted.Length);
            result[i] = Math.Round(sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)], 3);
        }

        return result;
    }
}
