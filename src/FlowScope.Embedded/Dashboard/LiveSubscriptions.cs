using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace FlowScope.Embedded.Dashboard;

/// <summary>Counts open live-stream connections and enforces the total and per-client limits.</summary>
internal sealed class LiveSubscriptions(IOptions<FlowScopeOptions> options)
{
    private readonly int _max = options.Value.MaxLiveSubscribers;
    private readonly int _maxPerClient = options.Value.MaxLiveSubscribersPerClient;
    private readonly ConcurrentDictionary<string, int> _perClient = new(StringComparer.Ordinal);
    private int _count;

    public int Count => Volatile.Read(ref _count);

    public bool TryEnter(string client)
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
                break;
            }
        }

        var mine = _perClient.AddOrUpdate(client, 1, static (_, n) => n + 1);
        if (mine > _maxPerClient)
        {
            Exit(client);
            return false;
        }

        return true;
    }

    public void Exit(string client)
    {
        Interlocked.Decrement(ref _count);
        _perClient.AddOrUpdate(client, 0, static (_, n) => n - 1);
        _perClient.TryRemove(new KeyValuePair<string, int>(client, 0));
    }
}
