using System.Diagnostics;
using System.Globalization;

namespace FlowScope.Embedded.Storage;

/// <summary>
/// The default store: traces in memory, bounded by a trace count and a span count per trace. Traces are kept
/// in a list ordered by their last change; the least recently changed trace is evicted first, so a trace that is
/// still receiving late spans stays. One lock guards everything: writes come from a single pump in batches and
/// reads copy what they need.
/// </summary>
internal sealed class InMemoryTraceStore : ITraceStore
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, TraceEntry> _traces = new(StringComparer.Ordinal);
    private readonly int _maxTraces;
    private readonly int _maxSpansPerTrace;

    // Doubly linked list ordered by Version: _oldest changed longest ago, _newest most recently.
    private TraceEntry? _oldest;
    private TraceEntry? _newest;

    private long _version;
    private long _storedSpans;
    private long _evictedTraces;
    private long _evictedSpans;
    private long _rejectedSpans;

    public InMemoryTraceStore(int maxTraces, int maxSpansPerTrace)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxTraces, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxSpansPerTrace, 1);
        _maxTraces = maxTraces;
        _maxSpansPerTrace = maxSpansPerTrace;
    }

    public ValueTask AddAsync(IReadOnlyList<SpanRecord> spans, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spans);
        lock (_lock)
        {
            for (var i = 0; i < spans.Count; i++)
            {
                AddCore(spans[i]);
            }

            while (_traces.Count > _maxTraces && _oldest is not null)
            {
                var victim = _oldest;
                Unlink(victim);
                _traces.Remove(victim.TraceId);
                _evictedTraces++;
                _evictedSpans += victim.Spans.Count;
                _storedSpans -= victim.Spans.Count;
            }
        }

        return ValueTask.CompletedTask;
    }

    private void AddCore(SpanRecord span)
    {
        if (!_traces.TryGetValue(span.TraceId, out var entry))
        {
            entry = new TraceEntry(span.TraceId);
            _traces.Add(span.TraceId, entry);
        }
        else
        {
            Unlink(entry);
        }

        if (entry.Spans.Count >= _maxSpansPerTrace)
        {
            entry.Rejected++;
            _rejectedSpans++;
        }
        else
        {
            entry.Add(span);
            _storedSpans++;
        }

        entry.Version = ++_version;
        entry.Summary = null;
        AppendNewest(entry);
    }

    public ValueTask<TracePage> QueryAsync(TraceQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        var limit = Math.Clamp(query.Limit, 1, TraceQuery.MaxLimit);
        var cursor = query.Cursor is null ? (CursorKey?)null : CursorKey.Parse(query.Cursor);
        var matches = new List<TraceSummary>();

        lock (_lock)
        {
            foreach (var entry in _traces.Values)
            {
                if (cursor is { } c && !c.IsAfter(entry.Start, entry.TraceId))
                {
                    continue;
                }

                if (Matches(entry, query))
                {
                    matches.Add(entry.GetSummary());
                }
            }
        }

        matches.Sort(static (a, b) =>
        {
            var byTime = b.StartTime.CompareTo(a.StartTime);
            return byTime != 0 ? byTime : string.CompareOrdinal(b.TraceId, a.TraceId);
        });

        string? next = null;
        if (matches.Count > limit)
        {
            var last = matches[limit - 1];
            next = new CursorKey(last.StartTime.UtcTicks, last.TraceId).ToString();
            matches.RemoveRange(limit, matches.Count - limit);
        }

        return ValueTask.FromResult(new TracePage(matches, next));
    }

    private static bool Matches(TraceEntry entry, TraceQuery query)
    {
        if (query.From is { } from && entry.Start < from)
        {
            return false;
        }

        if (query.To is { } to && entry.Start > to)
        {
            return false;
        }

        var duration = entry.End - entry.Start;
        if (query.MinDuration is { } min && duration < min)
        {
            return false;
        }

        if (query.MaxDuration is { } max && duration > max)
        {
            return false;
        }

        if (query.Status == TraceStatusFilter.Error && entry.ErrorCount == 0)
        {
            return false;
        }

        if (query.Status == TraceStatusFilter.Ok && entry.ErrorCount > 0)
        {
            return false;
        }

        if (!string.IsNullOrEmpty(query.Name))
        {
            var summary = entry.GetSummary();
            if (!Contains(summary.Name, query.Name) && !Contains(summary.Route, query.Name))
            {
                return false;
            }
        }

        return string.IsNullOrEmpty(query.Text) || ContainsText(entry, query.Text);
    }

    private static bool ContainsText(TraceEntry entry, string text)
    {
        foreach (var span in entry.Spans)
        {
            if (Contains(span.Name, text) || Contains(span.StatusMessage, text) || ContainsValue(span.Attributes, text))
            {
                return true;
            }

            foreach (var e in span.Events)
            {
                if (Contains(e.Name, text) || ContainsValue(e.Attributes, text))
                {
                    return true;
                }
            }
        }

        return false;
    }

    private static bool ContainsValue(IReadOnlyList<KeyValuePair<string, string>> attributes, string text)
    {
        for (var i = 0; i < attributes.Count; i++)
        {
            if (Contains(attributes[i].Value, text))
            {
                return true;
            }
        }

        return false;
    }

    private static bool Contains(string? value, string text) =>
        value is not null && value.Contains(text, StringComparison.OrdinalIgnoreCase);

    public ValueTask<TraceDetail?> GetTraceAsync(string traceId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(traceId);
        lock (_lock)
        {
            if (!_traces.TryGetValue(traceId, out var entry))
            {
                return ValueTask.FromResult<TraceDetail?>(null);
            }

            var spans = entry.Spans.ToArray();
            Array.Sort(spans, static (a, b) => a.StartTime.CompareTo(b.StartTime));
            return ValueTask.FromResult<TraceDetail?>(new TraceDetail(entry.GetSummary(), spans));
        }
    }

    public ValueTask<TraceChanges> GetChangesAsync(long afterVersion, int maxCount, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxCount, 1);
        lock (_lock)
        {
            if (afterVersion > _version)
            {
                // A version from before a restart of this store: start over.
                afterVersion = 0;
            }

            var first = _newest;
            if (first is null || first.Version <= afterVersion)
            {
                return ValueTask.FromResult(new TraceChanges([], Math.Max(afterVersion, 0), false));
            }

            while (first.Previous is { } previous && previous.Version > afterVersion)
            {
                first = previous;
            }

            var result = new List<TraceSummary>(Math.Min(maxCount, 256));
            var node = first;
            long version = afterVersion;
            while (node is not null && result.Count < maxCount)
            {
                result.Add(node.GetSummary());
                version = node.Version;
                node = node.Next;
            }

            return ValueTask.FromResult(new TraceChanges(result, version, node is not null));
        }
    }

    public TraceStoreStats GetStats()
    {
        lock (_lock)
        {
            return new TraceStoreStats
            {
                StoredTraces = _traces.Count,
                StoredSpans = _storedSpans,
                EvictedTraces = _evictedTraces,
                EvictedSpans = _evictedSpans,
                RejectedSpans = _rejectedSpans,
                Version = _version,
            };
        }
    }

    private void Unlink(TraceEntry entry)
    {
        if (entry.Previous is null && entry.Next is null && _oldest != entry)
        {
            return;
        }

        if (entry.Previous is { } p)
        {
            p.Next = entry.Next;
        }
        else
        {
            _oldest = entry.Next;
        }

        if (entry.Next is { } n)
        {
            n.Previous = entry.Previous;
        }
        else
        {
            _newest = entry.Previous;
        }

        entry.Previous = null;
        entry.Next = null;
    }

    private void AppendNewest(TraceEntry entry)
    {
        entry.Previous = _newest;
        entry.Next = null;
        if (_newest is not null)
        {
            _newest.Next = entry;
        }
        else
        {
            _oldest = entry;
        }

        _newest = entry;
    }

    private sealed class TraceEntry(string traceId)
    {
        public string TraceId { get; } = traceId;

        public List<SpanRecord> Spans { get; } = new(4);

        public DateTimeOffset Start { get; private set; } = DateTimeOffset.MaxValue;

        public DateTimeOffset End { get; private set; } = DateTimeOffset.MinValue;

        public int ErrorCount { get; private set; }

        public int Rejected { get; set; }

        public long Version { get; set; }

        public TraceSummary? Summary { get; set; }

        public TraceEntry? Previous { get; set; }

        public TraceEntry? Next { get; set; }

        private SpanRecord? _root;

        public void Add(SpanRecord span)
        {
            Spans.Add(span);
            if (span.StartTime < Start)
            {
                Start = span.StartTime;
            }

            var end = span.EndTime;
            if (end > End)
            {
                End = end;
            }

            if (span.Status == ActivityStatusCode.Error)
            {
                ErrorCount++;
            }

            var isRoot = span.ParentSpanId is null || span.HasRemoteParent;
            var rootIsReal = _root is not null && (_root.ParentSpanId is null || _root.HasRemoteParent);
            if (_root is null
                || (isRoot && !rootIsReal)
                || (isRoot == rootIsReal && span.StartTime < _root.StartTime))
            {
                _root = span;
            }
        }

        public TraceSummary GetSummary()
        {
            if (Summary is not null)
            {
                return Summary;
            }

            var root = _root!;
            var components = new List<string>(4);
            foreach (var span in Spans)
            {
                if (!components.Contains(span.Component))
                {
                    components.Add(span.Component);
                }
            }

            int? statusCode = int.TryParse(root.GetAttribute("http.response.status_code"), NumberStyles.None, CultureInfo.InvariantCulture, out var code) ? code : null;
            Summary = new TraceSummary
            {
                TraceId = TraceId,
                Name = root.Name,
                Route = root.GetAttribute("http.route"),
                Method = root.GetAttribute("http.request.method"),
                StatusCode = statusCode,
                StartTime = Start,
                Duration = End - Start,
                SpanCount = Spans.Count,
                ErrorCount = ErrorCount,
                RejectedSpanCount = Rejected,
                Components = components,
                Instance = root.Instance,
                Version = Version,
            };
            return Summary;
        }
    }

    /// <summary>Position in the newest-first order: start time descending, then trace id descending.</summary>
    private readonly record struct CursorKey(long StartTicks, string TraceId)
    {
        public bool IsAfter(DateTimeOffset start, string traceId)
        {
            var ticks = start.UtcTicks;
            return ticks < StartTicks || (ticks == StartTicks && string.CompareOrdinal(traceId, TraceId) < 0);
        }

        public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{StartTicks}-{TraceId}");

        public static CursorKey Parse(string value)
        {
            var dash = value.IndexOf('-', StringComparison.Ordinal);
            if (dash <= 0 || dash == value.Length - 1
                || !long.TryParse(value.AsSpan(0, dash), NumberStyles.None, CultureInfo.InvariantCulture, out var ticks))
            {
                throw new ArgumentException($"'{value}' is not a cursor returned by this store; pass the nextCursor value of the previous page.", nameof(value));
            }

            return new CursorKey(ticks, value[(dash + 1)..]);
        }
    }
}
