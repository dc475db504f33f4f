namespace FlowScope.Embedded.Redis.Internal;

/// <summary>
/// Wakes one sleeping thread of FlowScope's own: <see cref="Set"/> takes a monitor only when the signal was not set
/// already and pulses it only while the thread sleeps, so handing over work costs the caller next to nothing and never
/// goes through the thread pool.
/// </summary>
internal sealed class WakeSignal
{
    private readonly object _gate = new();
    private bool _set;
    private bool _sleeping;

    public void Set()
    {
        if (Volatile.Read(ref _set))
        {
            return;
        }

        lock (_gate)
        {
            _set = true;
            if (_sleeping)
            {
                Monitor.Pulse(_gate);
            }
        }
    }

    /// <summary>Clears the signal; call it before looking for work, so work handed over meanwhile sets it again.</summary>
    public void Reset() => Volatile.Write(ref _set, false);

    /// <summary>Sleeps until the signal is set. A cancellation must set it too (register <see cref="Set"/> on the token).</summary>
    public void Wait(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            while (!_set)
            {
                cancellationToken.ThrowIfCancellationRequested();
                _sleeping = true;
                Monitor.Wait(_gate);
                _sleeping = false;
            }
        }

        cancellationToken.ThrowIfCancellationRequested();
    }
}
