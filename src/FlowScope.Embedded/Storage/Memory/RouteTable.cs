using FlowScope.Embedded.Storage.Encoding;

namespace FlowScope.Embedded.Storage.Memory;

/// <summary>
/// The routes the store has seen (a route is a root span's name: "GET /orders/{id}", a queue's "process orders", a
/// worker's unit of work), each with what retention needs: how many traces were seen and kept, its recent durations
/// for a running p99, and its newest trace. Looked up by the name's encoded bytes, so the pump allocates nothing per
/// trace. Bounded by the store's memory: past its route limit every new name shares one "(other)" route. Not thread-safe.
/// </summary>
internal sealed class RouteTable
{
    /// <summary>The most routes any store tracks.</summary>
    internal const int MaxRoutes = 2_048;

    /// <summary>Bytes one route takes with its durations, name and look-up entries (a generous estimate).</summary>
    internal const int BytesPerRoute = (DurationHistogram.Buckets * sizeof(int)) + 320;

    private readonly int _maxRoutes;
    private readonly Dictionary<int, int> _byHash = new();

    // Names whose hash another route already has (rare): looked up by their text.
    private readonly Dictionary<string, int> _byName = new(StringComparer.Ordinal);
    private readonly List<Route> _routes = [];
    private int _other = -1;

    /// <summary>A table that tracks at most <paramref name="maxRoutes"/> routes (and "(other)").</summary>
    public RouteTable(int maxRoutes)
    {
        _maxRoutes = Math.Clamp(maxRoutes, 1, MaxRoutes);
    }

    public int Count => _routes.Count;

    public Route this[int id] => _routes[id];

    /// <summary>The bytes the table takes, about.</summary>
    public long Bytes => _routes.Count * (long)BytesPerRoute;

    /// <summary>The route of a root span's name.</summary>
    public int IdOf(in Text name)
    {
        var hash = new HashCode();
        if (name.IsWellKnown)
        {
            hash.Add(name.Number);
        }
        else
        {
            hash.AddBytes(name.Utf8);
        }

        var key = hash.ToHashCode();
        var collides = _byHash.TryGetValue(key, out var id);
        if (collides && _routes[id].Is(name))
        {
            return id;
        }

        var text = name.ToString();
        if (collides && _byName.TryGetValue(text, out var other))
        {
            return other;
        }

        if (_routes.Count >= _maxRoutes)
        {
            if (_other < 0)
            {
                _other = _routes.Count;
                _routes.Add(new Route("(other)"));
            }

            return _other;
        }

        id = _routes.Count;
        _routes.Add(new Route(text));
        if (collides)
        {
            _byName.Add(text, id);
        }
        else
        {
            _byHash.Add(key, id);
        }

        return id;
    }

    /// <summary>One route's figures.</summary>
    internal sealed class Route(string name)
    {
        private readonly DurationHistogram _durations = new();
        private readonly byte[] _utf8 = System.Text.Encoding.UTF8.GetBytes(name);

        public string Name { get; } = name;

        public bool Is(in Text text) => text.IsWellKnown ? WellKnownStrings.Get(text.Number) == Name : text.Utf8.SequenceEqual(_utf8);

        /// <summary>Traces of this route the store was given.</summary>
        public long Seen;

        /// <summary>Traces of this route held now, and of them those kept for each reason.</summary>
        public int Held;
        public int Sampled;

        /// <summary>The store version of the route's newest trace.</summary>
        public long NewestVersion;

        public void AddDuration(long ticks) => _durations.Add(ticks);

        /// <summary>
        /// Whether a duration stands out for this route: at or above the p99 of its recent durations and more than
        /// twice their median (so the slowest of a tight distribution is not an outlier). Needs 100 traces seen.
        /// </summary>
        public bool IsOutlier(long ticks) => Seen >= 100 && _durations.IsOutlier(ticks);
    }
}
