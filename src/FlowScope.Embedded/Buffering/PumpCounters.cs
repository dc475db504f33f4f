namespace FlowScope.Embedded.Buffering;

/// <summary>Counts spans the pump could not deliver (conversion or store failures).</summary>
internal sealed class PumpCounters
{
    private long _failed;

    public long Failed => Interlocked.Read(ref _failed);

    public void AddFailed(long count) => Interlocked.Add(ref _failed, count);
}
