using FlowScope.Embedded.Storage.Encoding;

namespace FlowScope.Embedded.Storage.Memory;

/// <summary>
/// The most recent evictions (store version at eviction, trace id) in a fixed ring, so the live stream can tell a
/// client which of its rows are gone. Older evictions are forgotten: a client that asks further back is told it
/// missed some. Not thread-safe.
/// </summary>
internal sealed class RecentEvictions
{
    internal const int Capacity = 4_096;

    /// <summary>The memory the ring takes.</summary>
    public static readonly long Bytes = Capacity * (long)System.Runtime.CompilerServices.Unsafe.SizeOf<(long, TraceId128)>();

    private readonly (long Version, TraceId128 Id)[] _ring = new (long, TraceId128)[Capacity];
    private int _next;
    private int _count;

    public void Add(long version, TraceId128 id)
    {
        _ring[_next] = (version, id);
        _next = (_next + 1) % _ring.Length;
        _count = Math.Min(_count + 1, _ring.Length);
    }

    /// <summary>The ids evicted after <paramref name="afterVersion"/> (at most <paramref name="max"/>); overflow when some are not known or not listed.</summary>
    /// <param name="afterVersion">The reader's version.</param>
    /// <param name="max">The most ids to list.</param>
    /// <param name="gone">Whether a trace is still gone (one evicted and then started again by a late span is not).</param>
    public (List<string> Ids, bool Overflow) Since(long afterVersion, int max, Func<TraceId128, bool> gone)
    {
        var ids = new List<string>();
        var overflow = false;
        for (var i = 0; i < _count; i++)
        {
            var (version, id) = _ring[(_next - 1 - i + _ring.Length) % _ring.Length];
            if (version <= afterVersion)
            {
                return (ids, overflow);
            }

            if (ids.Count == max)
            {
                overflow = true;
                break;
            }

            if (gone(id))
            {
                ids.Add(id.ToString());
            }
        }

        // Every remembered eviction is newer than the caller's version: older ones may have been forgotten.
        return (ids, overflow || _count == _ring.Length);
    }
}
