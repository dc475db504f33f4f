namespace FlowScope.Embedded.Storage;

/// <summary>What the trace list shows of one trace.</summary>
public sealed record TraceSummary
{
    /// <summary>Gets the trace id.</summary>
    public required string TraceId { get; init; }

    /// <summary>Gets the trace name: the root span's name (for requests, method and route).</summary>
    public required string Name { get; init; }

    /// <summary>Gets the route template of the root request, if any.</summary>
    public string? Route { get; init; }

    /// <summary>Gets the HTTP method of the root request, if any.</summary>
    public string? Method { get; init; }

    /// <summary>Gets the HTTP status code of the root request, if any.</summary>
    public int? StatusCode { get; init; }

    /// <summary>Gets when the earliest span started.</summary>
    public required DateTimeOffset StartTime { get; init; }

    /// <summary>Gets the time from the earliest span start to the latest span end.</summary>
    public required TimeSpan Duration { get; init; }

    /// <summary>Gets how many spans the trace holds.</summary>
    public required int SpanCount { get; init; }

    /// <summary>Gets how many spans have error status.</summary>
    public required int ErrorCount { get; init; }

    /// <summary>Gets whether any span failed.</summary>
    public bool IsError => ErrorCount > 0;

    /// <summary>Gets how many spans of this trace were rejected because it reached its span limit.</summary>
    public int RejectedSpanCount { get; init; }

    /// <summary>Gets the distinct components the trace touches.</summary>
    public required IReadOnlyList<string> Components { get; init; }

    /// <summary>Gets the instance that recorded the root span.</summary>
    public string? Instance { get; init; }

    /// <summary>Gets how many database commands the trace's spans issued (as their local roots counted them).</summary>
    public int DatabaseCount { get; init; }

    /// <summary>
    /// Gets the largest number of times one normalised database statement ran in the trace, when that reached the
    /// N+1 threshold; 0 otherwise.
    /// </summary>
    public int NPlusOne { get; init; }

    /// <summary>Gets how many database commands repeated an earlier one exactly (same statement and parameter values).</summary>
    public int DuplicateQueries { get; init; }

    /// <summary>Gets why the store keeps the trace: it is recent, or it was kept for an error, as slow, or as a sample of its route.</summary>
    public TraceRetention KeptBecause { get; init; }

    /// <summary>
    /// Gets what kind of work the trace's root is: <c>http</c>, <c>connection</c>, <c>message</c>, <c>worker</c>,
    /// <c>simulator</c> or <c>other</c>.
    /// </summary>
    public string Kind { get; init; } = "other";

    /// <summary>
    /// Gets the store's change number of the trace's last update: larger means more recent. The live stream
    /// uses it as its event id.
    /// </summary>
    public long Version { get; init; }
}

/// <summary>Why a store keeps a trace (see <see cref="RetentionOptions"/>).</summary>
public enum TraceRetention
{
    /// <summary>The trace is among the newest (or still receiving spans).</summary>
    Recent,

    /// <summary>Kept because a span failed.</summary>
    Error,

    /// <summary>Kept because it was slower than its route's recent p99 or than the slow threshold.</summary>
    Slow,

    /// <summary>Kept as one of the few ordinary traces of its route.</summary>
    Sampled,
}

/// <summary>What a store saw and keeps of one route (a root span's name).</summary>
/// <param name="Route">The route: the name of the traces' root span.</param>
/// <param name="Seen">Traces of the route the store was given since it started.</param>
/// <param name="Kept">Traces of the route held now.</param>
/// <param name="KeptForError">Of those, kept for an error.</param>
/// <param name="KeptAsSlow">Of those, kept as slow outliers.</param>
/// <param name="KeptAsSample">Of those, kept as the route's sample.</param>
public sealed record TraceRouteStats(string Route, long Seen, int Kept, int KeptForError, int KeptAsSlow, int KeptAsSample);

/// <summary>One trace with all its stored spans.</summary>
/// <param name="Summary">The trace summary.</param>
/// <param name="Spans">The spans, ordered by start time.</param>
public sealed record TraceDetail(TraceSummary Summary, IReadOnlyList<SpanRecord> Spans);

/// <summary>One page of a trace query.</summary>
/// <param name="Traces">The traces, newest first.</param>
/// <param name="NextCursor">The cursor for the next page, or <see langword="null"/> when there is none.</param>
public sealed record TracePage(IReadOnlyList<TraceSummary> Traces, string? NextCursor);

/// <summary>A page of traces changed after a given version, for the live stream.</summary>
/// <param name="Traces">The changed traces, oldest change first.</param>
/// <param name="Version">The version to continue from.</param>
/// <param name="HasMore">Whether more changes are waiting.</param>
public sealed record TraceChanges(IReadOnlyList<TraceSummary> Traces, long Version, bool HasMore)
{
    /// <summary>
    /// Gets the ids of traces evicted after the given version, up to <see cref="Version"/> (a bounded number of the
    /// most recent evictions).
    /// </summary>
    public IReadOnlyList<string> Evicted { get; init; } = [];

    /// <summary>
    /// Gets whether more traces were evicted after the given version than <see cref="Evicted"/> lists: a client that
    /// keeps a copy of the list should then check the rest of it against the store.
    /// </summary>
    public bool EvictedOverflow { get; init; }
}

/// <summary>Which traces a query selects by status.</summary>
public enum TraceStatusFilter
{
    /// <summary>All traces.</summary>
    Any,

    /// <summary>Traces without failed spans.</summary>
    Ok,

    /// <summary>Traces with at least one failed span.</summary>
    Error,
}

/// <summary>The order of a trace query's results.</summary>
public enum TraceSort
{
    /// <summary>Newest first (by start time).</summary>
    Time,

    /// <summary>Longest first.</summary>
    Duration,
}

/// <summary>A trace query: every set criterion must match.</summary>
public sealed record TraceQuery
{
    /// <summary>The default page size: 50.</summary>
    public const int DefaultLimit = 50;

    /// <summary>The largest page size: 1 000.</summary>
    public const int MaxLimit = 1_000;

    /// <summary>Gets a case-insensitive substring of the trace name or route.</summary>
    public string? Name { get; init; }

    /// <summary>Gets the status filter.</summary>
    public TraceStatusFilter Status { get; init; }

    /// <summary>Gets the shortest duration to include.</summary>
    public TimeSpan? MinDuration { get; init; }

    /// <summary>Gets the longest duration to include.</summary>
    public TimeSpan? MaxDuration { get; init; }

    /// <summary>Gets a case-insensitive text searched in span names, attribute values, status messages and events.</summary>
    public string? Text { get; init; }

    /// <summary>
    /// Gets a component the trace must touch: a kind (<c>queue</c>, <c>middleware</c>, …) or the name of a component
    /// span (a middleware type, a route, an action), case-insensitive.
    /// </summary>
    public string? Component { get; init; }

    /// <summary>
    /// Gets the class of HTTP status code the trace's root request must have answered: 2 for 2xx, 4 for 4xx (client
    /// errors) and so on; <see langword="null"/> for any.
    /// </summary>
    public int? StatusClass { get; init; }

    /// <summary>Gets the kind of root work to include (see <see cref="TraceSummary.Kind"/>); <see langword="null"/> for any.</summary>
    public string? Kind { get; init; }

    /// <summary>Gets an attribute some span must carry.</summary>
    public string? AttributeKey { get; init; }

    /// <summary>Gets the value <see cref="AttributeKey"/> must have (case-insensitive); <see langword="null"/> for any value.</summary>
    public string? AttributeValue { get; init; }

    /// <summary>Gets the order of the results.</summary>
    public TraceSort Sort { get; init; }

    /// <summary>Gets the earliest trace start to include.</summary>
    public DateTimeOffset? From { get; init; }

    /// <summary>Gets the latest trace start to include.</summary>
    public DateTimeOffset? To { get; init; }

    /// <summary>Gets the reason of keeping a trace must be; <see langword="null"/> for any.</summary>
    public TraceRetention? KeptBecause { get; init; }

    /// <summary>Gets whether only traces with an N+1 mark (a normalised statement repeated at least the threshold) match.</summary>
    public bool NPlusOne { get; init; }

    /// <summary>Gets the page size.</summary>
    public int Limit { get; init; } = DefaultLimit;

    /// <summary>Gets the cursor returned by the previous page.</summary>
    public string? Cursor { get; init; }
}

/// <summary>Counters of a trace store.</summary>
public sealed record TraceStoreStats
{
    /// <summary>Gets the number of traces held.</summary>
    public long StoredTraces { get; init; }

    /// <summary>Gets the number of spans held.</summary>
    public long StoredSpans { get; init; }

    /// <summary>Gets the number of traces evicted to stay within the memory cap (or the trace limit).</summary>
    public long EvictedTraces { get; init; }

    /// <summary>Gets the number of spans that left with evicted traces.</summary>
    public long EvictedSpans { get; init; }

    /// <summary>Gets the number of spans refused because their trace reached its span limit.</summary>
    public long RejectedSpans { get; init; }

    /// <summary>Gets the store's current change number.</summary>
    public long Version { get; init; }

    /// <summary>Gets the memory the store holds, in bytes (0 when the store does not measure it).</summary>
    public long MemoryBytes { get; init; }

    /// <summary>Gets the store's memory cap, in bytes (0 when it has none).</summary>
    public long CapacityBytes { get; init; }
}
