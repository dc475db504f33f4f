using FlowScope.Embedded.Storage;

namespace FlowScope.Embedded.Testing.Internal;

/// <summary>
/// The app's trace store, unchanged, plus a signal raised after every batch the pump adds: what lets a test wait for a
/// trace without polling.
/// </summary>
internal sealed class ObservedTraceStore(ITraceStore inner) : ITraceStore, IAsyncDisposable, IDisposable
{
    public ITraceStore Inner { get; } = inner;

    public TraceSignal Changed { get; } = new();

    public async ValueTask AddAsync(SpanBatch batch, CancellationToken cancellationToken = default)
    {
        try
        {
            await Inner.AddAsync(batch, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Changed.Notify();
        }
    }

    public ValueTask<TracePage> QueryAsync(TraceQuery query, CancellationToken cancellationToken = default) => Inner.QueryAsync(query, cancellationToken);

    public ValueTask<TraceDetail?> GetTraceAsync(string traceId, CancellationToken cancellationToken = default) => Inner.GetTraceAsync(traceId, cancellationToken);

    public ValueTask<TraceChanges> GetChangesAsync(long afterVersion, int maxCount, CancellationToken cancellationToken = default) =>
        Inner.GetChangesAsync(afterVersion, maxCount, cancellationToken);

    public TraceStoreStats GetStats() => Inner.GetStats();

    public IReadOnlyList<TraceRouteStats> GetRouteStats() => Inner.GetRouteStats();

    // The container disposes what its factory returned (this decorator), so the store it wraps is disposed from here.
    public void Dispose() => (Inner as IDisposable)?.Dispose();

    public ValueTask DisposeAsync()
    {
        if (Inner is IAsyncDisposable asyncDisposable)
        {
            return asyncDisposable.DisposeAsync();
        }

        Dispose();
        return ValueTask.CompletedTask;
    }
}
