using Microsoft.Extensions.Options;

namespace FlowScope.Embedded.Dashboard;

/// <summary>Counts open live-stream connections and enforces the limit.</summary>
internal sealed class LiveSubscriptions(IOptions<FlowScopeOptions> options)
{
    private readonly int _max = options.Value.MaxLiveSubscribers;
    private int _count;

    public int Count => Volatile.Read(ref _count);

    public bool TryEnter()
    {
        while (true)
        {
            var current = Volatile.Read(ref _count);
            if (current >= _max)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _count, current + 1, current) == current)
            {
                return true;
            }
        }
    }

    public void Exit() => Interlocked.Decrement(ref _count);
}
