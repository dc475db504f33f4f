using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace FlowScope.Embedded.Storage;

/// <summary>
/// The default store: traces in memory, bounded by a trace count and a span count per trace. Traces are kept
/// in a list ordered by their last change; the least recently changed trace is evicted first, so a trace that is
/// still receiving late spans stays. One lock guards everything: writes come from a single pump in batches and
/// reads copy what they need. A request's pipeline stages arrive compactly with the request record
/// (<see cref="SpanRecord.Stages"/>) and count as spans of their own everywhere (span counts, caps, filters,
/// components, errors, time range); they become records only when a trace is read.
/// </summary>
internal sealed class InMemoryTraceStore : ITraceStore
{
    private readonly Lock _lock = new();
    // Keyed by the trace id as numbers (TraceKey): a stored trace keeps no id string.
    private readonly Dictionary<TraceKey, TraceEntry> _traces = new();
    private readonly ComponentSets _componentSets = new();
    private readonly int _maxTraces;
    private readonly int _maxSpansPerTrace;
    private readonly EvictionLog _evictions = new(EvictionLog.DefaultCapacity);

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
                _traces.Remove(victim.Key);
                _evictions.Add(victim.Key, _version);
                _evictedTraces++;
                _evictedSpans += victim.SpanCount;
                _storedSpans -= victim.SpanCount;
            }
        }

        return ValueTask.CompletedTask;
    }

    private void AddCore(SpanRecord span)
    {
        var key = span.TraceKey;
        if (!_traces.TryGetValue(key, out var entry))
        {
            entry = new TraceEntry(key);
            _traces.Add(key, entry);
        }
        else
        {
            Unlink(entry);
        }

        if (span.Stages is { } stages && entry.SpanCount + 1 + stages.Count > _maxSpansPerTrace)
        {
            // Not all of it fits: store record by record, as far as the cap allows.
            AddOneByOne(entry, span.WithoutStages());
            foreach (var stage in stages.Expand())
            {
                AddOneByOne(entry, stage);
            }
        }
        else if (entry.SpanCount >= _maxSpansPerTrace)
        {
            entry.Rejected++;
            _rejectedSpans++;
        }
        else
        {
            entry.Add(span);
            _storedSpans += 1 + (span.Stages?.Count ?? 0);
        }

        entry.Version = ++_version;
        entry.Summary = null;
        AppendNewest(entry);
    }

    private void AddOneByOne(TraceEntry entry, SpanRecord span)
    {
        if (entry.SpanCount >= _maxSpansPerTrace)
        {
            entry.Rejected++;
            _rejectedSpans++;
        }
        else
        {
            entry.Add(span);
            _storedSpans++;
        }
    }

    public ValueTask<TracePage> QueryAsync(TraceQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        var limit = Math.Clamp(query.Limit, 1, TraceQuery.MaxLimit);
        var byDuration = query.Sort == TraceSort.Duration;
        var cursor = query.Cursor is null ? (CursorKey?)null : CursorKey.Parse(query.Cursor, byDuration);
        var matches = new List<TraceSummary>();

        lock (_lock)
        {
            foreach (var entry in _traces.Values)
            {
                if (cursor is { } c && !c.IsAfter(byDuration ? (entry.End - entry.Start).Ticks : entry.Start.UtcTicks, entry.Key))
                {
                    continue;
                }

                if (Matches(entry, query))
                {
                    matches.Add(entry.GetSummary(_componentSets));
                }
            }
        }

        matches.Sort(byDuration
            ? static (a, b) =>
            {
                var c = b.Duration.CompareTo(a.Duration);
                return c != 0 ? c : string.CompareOrdinal(b.TraceId, a.TraceId);
            }
            : static (a, b) =>
            {
                var c = b.StartTime.CompareTo(a.StartTime);
                return c != 0 ? c : string.CompareOrdinal(b.TraceId, a.TraceId);
            });

        string? next = null;
        if (matches.Count > limit)
        {
            var last = matches[limit - 1];
            next = new CursorKey(byDuration ? last.Duration.Ticks : last.StartTime.UtcTicks, last.TraceId, byDuration).ToString();
            matches.RemoveRange(limit, matches.Count - limit);
        }

        return ValueTask.FromResult(new TracePage(matches, next));
    }

    private bool Matches(TraceEntry entry, TraceQuery query)
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

        if (query.StatusClass is not null || query.Kind is not null || query.NPlusOne)
        {
            var summary = entry.GetSummary(_componentSets);
            if ((query.StatusClass is { } statusClass && summary.StatusCode / 100 != statusClass)
                || (query.Kind is not null && !string.Equals(summary.Kind, query.Kind, StringComparison.OrdinalIgnoreCase))
                || (query.NPlusOne && summary.NPlusOne == 0))
            {
                return false;
            }
        }

        if (!string.IsNullOrEmpty(query.Name))
        {
            var summary = entry.GetSummary(_componentSets);
            if (!Contains(summary.Name, query.Name) && !Contains(summary.Route, query.Name))
            {
                return false;
            }
        }

        if (!string.IsNullOrEmpty(query.Component) && !TouchesComponent(entry, query.Component))
        {
            return false;
        }

        if (!string.IsNullOrEmpty(query.AttributeKey) && !HasAttribute(entry, query.AttributeKey, query.AttributeValue))
        {
            return false;
        }

        return string.IsNullOrEmpty(query.Text) || ContainsText(entry, query.Text);
    }

    private static bool TouchesComponent(TraceEntry entry, string component)
    {
        foreach (var span in entry.Spans)
        {
            if (string.Equals(span.Component, component, StringComparison.OrdinalIgnoreCase)
                || (span.Component != SpanComponents.Server && string.Equals(span.Name, component, StringComparison.OrdinalIgnoreCase)))
            {
                return true;
            }
        }

        foreach (var span in entry.Spans)
        {
            if (span.Stages is { } stages && stages.TouchesComponent(component))
            {
                return true;
            }
        }

        return false;
    }

    private static bool HasAttribute(TraceEntry entry, string key, string? value)
    {
        foreach (var span in entry.Spans)
        {
            if (SpanHasAttribute(span, key, value))
            {
                return true;
            }
        }

        // Stages are built into records only for traces the real records did not already match.
        foreach (var span in entry.Spans)
        {
            if (span.Stages is { } stages && stages.Any(s => SpanHasAttribute(s, key, value)))
            {
                return true;
            }
        }

        return false;
    }

    private static bool SpanHasAttribute(SpanRecord span, string key, string? value)
    {
        var attributes = span.Attributes;
        for (var i = 0; i < attributes.Count; i++)
        {
            var pair = attributes[i];
            if (string.Equals(pair.Key, key, StringComparison.Ordinal)
                && (value is null || string.Equals(pair.Value, value, StringComparison.OrdinalIgnoreCase)))
            {
                return true;
            }
        }

        return false;
    }

    private static bool ContainsText(TraceEntry entry, string text)
    {
        foreach (var span in entry.Spans)
        {
            if (SpanContainsText(span, text))
            {
                return true;
            }
        }

        foreach (var span in entry.Spans)
        {
            if (span.Stages is { } stages && stages.Any(s => SpanContainsText(s, text)))
            {
                return true;
            }
        }

        return false;
    }

    private static bool SpanContainsText(SpanRecord span, string text)
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
            if (!_traces.TryGetValue(TraceKey.Of(traceId), out var entry))
            {
                return ValueTask.FromResult<TraceDetail?>(null);
            }

            // By start time, and in the order stored for equal times (a request before its stages, a stage before
            // those nested in it): a stable sort.
            var spans = entry.ExpandSpans().OrderBy(static s => s.StartTime).ToArray();
            return ValueTask.FromResult<TraceDetail?>(new TraceDetail(entry.GetSummary(_componentSets), spans));
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
                // Evictions come with additions, which are changes: none here.
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
                result.Add(node.GetSummary(_componentSets));
                version = node.Version;
                node = node.Next;
            }

            // A trace evicted and then started again by a late span is stored: not reported as gone.
            var evicted = _evictions.Between(afterVersion, version, key => !_traces.ContainsKey(key), out var overflow);
            return ValueTask.FromResult(new TraceChanges(result, version, node is not null) { Evicted = evicted, EvictedOverflow = overflow });
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

    /// <summary>
    /// The component lists of cached trace summaries, shared: the traces of an app touch a few sets of components
    /// (a route's requests all the same one), and a list of its own per summary was two more objects per stored trace
    /// once the dashboard had asked. Used under the store's lock only.
    /// </summary>
    internal sealed class ComponentSets
    {
        // Few enough to search one by one; a set beyond them gets an array of its own.
        private const int MaxShared = 64;
        private readonly List<string[]> _shared = new();
        private readonly List<string> _scratch = new(8);

        /// <summary>An empty list to gather one summary's components in (reused; pass it to <see cref="Intern"/>).</summary>
        public List<string> Scratch()
        {
            _scratch.Clear();
            return _scratch;
        }

        /// <summary>The shared list with the same components in the same order, or a new one (shared from now on while there is room).</summary>
        public IReadOnlyList<string> Intern(List<string> components)
        {
            foreach (var set in _shared)
            {
                if (Same(set, components))
                {
                    return set;
                }
            }

            var array = components.ToArray();
            if (_shared.Count < MaxShared)
            {
                _shared.Add(array);
            }

            return array;
        }

        private static bool Same(string[] set, List<string> components) =>
            set.AsSpan().SequenceEqual(CollectionsMarshal.AsSpan(components));
    }

    private sealed class TraceEntry(TraceKey key)
    {
        public TraceKey Key { get; } = key;

        /// <summary>The trace id as text, formatted on each call (summaries keep theirs).</summary>
        public string TraceId => Key.ToString();

        // The records as added: the first inline, the others in a list made for the second. Most traces of a
        // busy app are one request record (its stages compact), and every object a trace keeps is copied by the GC
        // when it survives; the list and its array were two of about ten.
        private SpanRecord? _first;
        private SpanRecord[]? _rest;
        private int _restCount;

        /// <summary>The records as added; a request record may carry its stages compactly (<see cref="SpanRecord.Stages"/>).</summary>
        public Records Spans => new(this);

        /// <summary>The number of spans held, compact stages included.</summary>
        public int SpanCount => Spans.Count + _stageCount;

        private int _stageCount;

        /// <summary>The records of a trace, enumerable without allocating.</summary>
        public readonly struct Records(TraceEntry entry)
        {
            public int Count => entry._first is null ? 0 : 1 + entry._restCount;

            public Enumerator GetEnumerator() => new(entry);

            public SpanRecord[] ToArray()
            {
                var result = new SpanRecord[Count];
                var i = 0;
                foreach (var span in this)
                {
                    result[i++] = span;
                }

                return result;
            }
        }

        public struct Enumerator(TraceEntry entry)
        {
            private int _index = -1;

            public readonly SpanRecord Current => _index == 0 ? entry._first! : entry._rest![_index - 1];

            public bool MoveNext() => ++_index < (entry._first is null ? 0 : 1 + entry._restCount);
        }

        /// <summary>Every span as a record: each request record (without its compact stages) followed by its stages.</summary>
        public List<SpanRecord> ExpandSpans()
        {
            var result = new List<SpanRecord>(SpanCount);
            foreach (var span in Spans)
            {
                result.Add(span.WithoutStages());
                span.Stages?.Expand(result);
            }

            return result;
        }

        // UTC ticks (a DateTimeOffset takes twice the room in every stored trace).
        private long _startTicks = DateTimeOffset.MaxValue.UtcTicks;
        private long _endTicks = DateTimeOffset.MinValue.UtcTicks;

        public DateTimeOffset Start => new(_startTicks, TimeSpan.Zero);

        public DateTimeOffset End => new(_endTicks, TimeSpan.Zero);

        public int ErrorCount { get; private set; }

        public int Rejected { get; set; }

        public long Version { get; set; }

        public TraceSummary? Summary { get; set; }

        public TraceEntry? Previous { get; set; }

        public TraceEntry? Next { get; set; }

        private SpanRecord? _root;

        public void Add(SpanRecord span)
        {
            if (_first is null)
            {
                _first = span;
            }
            else
            {
                // A plain array (no list object around it), grown as a list would be.
                _rest ??= new SpanRecord[3];
                if (_restCount == _rest.Length)
                {
                    Array.Resize(ref _rest, _rest.Length * 2);
                }

                _rest[_restCount++] = span;
            }

            _startTicks = Math.Min(_startTicks, span.StartTime.UtcTicks);
            _endTicks = Math.Max(_endTicks, span.EndTime.UtcTicks);

            if (span.Status == ActivityStatusCode.Error)
            {
                ErrorCount++;
            }

            if (span.Stages is { } stages)
            {
                // Stages never become the root: they always have a parent (the request) in the same trace.
                _stageCount += stages.Count;
                ErrorCount += stages.FailedCount;
                _startTicks = Math.Min(_startTicks, stages.MinStart.UtcTicks);
                _endTicks = Math.Max(_endTicks, stages.MaxEnd.UtcTicks);
            }

            var isRoot = !span.HasParent || span.HasRemoteParent;
            var rootIsReal = _root is not null && (!_root.HasParent || _root.HasRemoteParent);
            if (_root is null
                || (isRoot && !rootIsReal)
                || (isRoot == rootIsReal && span.StartTime < _root.StartTime))
            {
                _root = span;
            }
        }

        public TraceSummary GetSummary(ComponentSets sets)
        {
            if (Summary is not null)
            {
                return Summary;
            }

            var root = _root!;
            var components = sets.Scratch();
            foreach (var span in Spans)
            {
                if (!components.Contains(span.Component))
                {
                    components.Add(span.Component);
                }

                if (span.Stages is { } stages)
                {
                    for (var i = 0; i < stages.Count; i++)
                    {
                        if (!components.Contains(stages.ComponentOf(i)))
                        {
                            components.Add(stages.ComponentOf(i));
                        }
                    }
                }
            }

            int? statusCode = int.TryParse(root.GetAttribute("http.response.status_code"), NumberStyles.None, CultureInfo.InvariantCulture, out var code) ? code : null;
            static int Count(string? text) => int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0;
            Summary = new TraceSummary
            {
                TraceId = TraceId,
                Name = root.Name,
                Route = root.GetAttribute("http.route"),
                Method = root.GetAttribute("http.request.method"),
                StatusCode = statusCode,
                StartTime = Start,
                Duration = End - Start,
                SpanCount = SpanCount,
                ErrorCount = ErrorCount,
                RejectedSpanCount = Rejected,
                Components = sets.Intern(components),
                Instance = root.Instance,
                Kind = TraceKinds.Of(root),
                DatabaseCount = Count(root.GetAttribute("flowscope.db.count")),
                NPlusOne = Count(root.GetAttribute("flowscope.db.n_plus_one")),
                DuplicateQueries = Count(root.GetAttribute("flowscope.db.duplicates")),
                Version = Version,
            };
            return Summary;
        }
    }

    /// <summary>
    /// Position in the result order (sort key descending, then trace id descending). The key is the start time in
    /// ticks, or the duration in ticks (prefixed <c>d</c>) when sorting by duration.
    /// </summary>
    private readonly record struct CursorKey(long Key, string TraceId, bool ByDuration = false)
    {
        public bool IsAfter(long key, TraceKey traceId) =>
            key < Key || (key == Key && TraceKey.CompareOrdinal(traceId, TraceKey.Of(TraceId)) < 0);

        public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{(ByDuration ? "d" : "")}{Key}-{TraceId}");

        public static CursorKey Parse(string value, bool byDuration)
        {
            var text = value.AsSpan();
            var isDuration = text.Length > 0 && text[0] == 'd';
            if (isDuration)
            {
                text = text[1..];
            }

            var dash = text.IndexOf('-');
            if (isDuration != byDuration || dash <= 0 || dash == text.Length - 1
                || !long.TryParse(text[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out var key))
            {
                throw new ArgumentException($"'{value}' is not a cursor returned by this store for this sort order; pass the nextCursor value of the previous page.", nameof(value));
            }

            return new CursorKey(key, text[(dash + 1)..].ToString(), byDuration);
        }
    }
}
