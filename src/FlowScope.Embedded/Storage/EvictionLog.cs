namespace FlowScope.Embedded.Storage;

/// <summary>
/// The most recent evictions of a store, each with the store version it happened at, in a fixed ring: the live list
/// learns which of its rows point at traces that are gone. Older evictions are forgotten; a reader that asks from
/// before them is told so (overflow). Not thread-safe: used under its store's lock.
/// </summary>
internal sealed class EvictionLog
{
    /// <summary>How many evictions are remembered by default: a few seconds of a busy app, 48 KB.</summary>
    public const int DefaultCapacity = 2_048;

    private readonly TraceKey[] _keys;
    private readonly long[] _versions;
    private long _count;

    // The version of the newest eviction the ring has overwritten: a reader from before it missed some.
    private long _forgottenUpTo = -1;

    public EvictionLog(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _keys = new TraceKey[capacity];
        _versions = new long[capacity];
    }

    public void Add(TraceKey key, long version)
    {
        var slot = (int)(_count % _keys.Length);
        if (_count >= _keys.Length)
        {
            _forgottenUpTo = _versions[slot];
        }

        _keys[slot] = key;
        _versions[slot] = version;
        _count++;
    }

    /// <summary>
    /// The ids of traces evicted after <paramref name="afterVersion"/> and at or before <paramref name="upToVersion"/>
    /// that <paramref name="include"/> accepts, oldest first; <paramref name="overflow"/> says whether some of that
    /// range were forgotten.
    /// </summary>
    public IReadOnlyList<string> Between(long afterVersion, long upToVersion, Func<TraceKey, bool> include, out bool overflow)
    {
        overflow = _forgottenUpTo > afterVersion;
        var retained = (int)Math.Min(_count, _keys.Length);
        List<string>? result = null;

        // Versions only grow along the ring: walk back from the newest until the reader's version.
        for (var i = 1; i <= retained; i++)
        {
            var slot = (int)((_count - i) % _keys.Length);
            var version = _versions[slot];
            if (version <= afterVersion)
            {
                break;
            }

            if (version <= upToVersion && include(_keys[slot]))
            {
                (result ??= []).Add(_keys[slot].ToString());
            }
        }

        result?.Reverse();
        return result ?? (IReadOnlyList<string>)[];
    }
}
