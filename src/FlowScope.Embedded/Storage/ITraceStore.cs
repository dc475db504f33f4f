namespace FlowScope.Embedded.Storage;

/// <summary>
/// Where FlowScope keeps traces. The in-memory store is the default; a persistent store (such as Redis Streams)
/// replaces it to share one history across instances. Implementations are thread-safe and bounded.
/// </summary>
public interface ITraceStore
{
    /// <summary>
    /// Adds a batch of finished spans in their encoded form. Spans join their trace whether or not it already exists
    /// (late spans of a trace whose root has ended are normal). Called from FlowScope's single background pump; the
    /// batch is valid only until the call returns, so copy what you keep.
    /// </summary>
    ValueTask AddAsync(SpanBatch batch, CancellationToken cancellationToken = default);

    /// <summary>Queries trace summaries, newest first, one page at a time.</summary>
    /// <exception cref="ArgumentException">The query's cursor is not one this store issued.</exception>
    ValueTask<TracePage> QueryAsync(TraceQuery query, CancellationToken cancellationToken = default);

    /// <summary>Gets one trace with its spans, or <see langword="null"/> when the store does not hold it.</summary>
    ValueTask<TraceDetail?> GetTraceAsync(string traceId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Gets the traces created or updated after <paramref name="afterVersion"/>, oldest change first, at most
    /// <paramref name="maxCount"/>. A trace updated several times appears once, with its latest state.
    /// </summary>
    ValueTask<TraceChanges> GetChangesAsync(long afterVersion, int maxCount, CancellationToken cancellationToken = default);

    /// <summary>Gets the store's counters.</summary>
    TraceStoreStats GetStats();

    /// <summary>Gets what the store saw and keeps of each route, busiest first; empty for a store that does not track routes.</summary>
    IReadOnlyList<TraceRouteStats> GetRouteStats() => [];
}
