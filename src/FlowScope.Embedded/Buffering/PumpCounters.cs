namespace FlowScope.Embedded.Buffering;

/// <summary>
/// What the pump did with the spans it took: every span (a request's stages included) counts as captured when the pump
/// takes it, and as failed when it could not be converted or stored. Updated together with the store under
/// <see cref="Gate"/>, so a reader holding it sees <c>captured = stored + rejected + evicted + failed</c> exactly.
/// </summary>
internal sealed class PumpCounters
{
    private long _captured;
    private long _failed;

    /// <summary>Held by the pump while it counts a batch and stores it, and by readers of consistent figures.</summary>
    public Lock Gate { get; } = new();

    public long Captured => Interlocked.Read(ref _captured);

    public long Failed => Interlocked.Read(ref _failed);

    public void AddCaptured(long count) => Interlocked.Add(ref _captured, count);

    /// <summary>
    /// Every count at one moment: <c>Captured = Stored + Dropped + Rejected + Evicted + Failed</c> holds exactly (spans
    /// still in the buffer are not captured yet: they are <c>Buffered</c>).
    /// </summary>
    public CaptureTotals Read(SpanBuffer buffer, Storage.ITraceStore store)
    {
        lock (Gate)
        {
            var dropped = buffer.Dropped;
            return new CaptureTotals(Captured + dropped, dropped, Failed, store.GetStats(), buffer.Count);
        }
    }

    public void AddFailed(long count) => Interlocked.Add(ref _failed, count);
}

/// <summary>The capture counts at one moment (see <see cref="PumpCounters.Read"/>).</summary>
internal readonly record struct CaptureTotals(long Captured, long Dropped, long Failed, Storage.TraceStoreStats Store, int Buffered);
