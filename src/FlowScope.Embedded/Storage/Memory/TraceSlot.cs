using FlowScope.Embedded.Storage.Encoding;

namespace FlowScope.Embedded.Storage.Memory;

/// <summary>
/// What the in-memory store knows of one trace without reading its bytes: enough to select, sort and summarise it.
/// A plain struct in one array (no object per trace), so the garbage collector never scans or copies it.
/// </summary>
internal struct TraceSlot
{
    public TraceId128 Id;
    public long StartTicks;
    public long EndTicks;

    /// <summary>The store's change number of the trace's last update.</summary>
    public long Version;

    /// <summary>Neighbours in the list of traces ordered by <see cref="Version"/> (-1: none).</summary>
    public int Older;
    public int Newer;

    /// <summary>The trace's blocks in the order added (indexes into the block references; -1: none).</summary>
    public int FirstBlock;
    public int LastBlock;

    /// <summary>The block holding the root span (or, until it comes, the earliest span).</summary>
    public int RootBlock;

    public int SpanCount;
    public int ErrorCount;
    public int Rejected;

    /// <summary>Bit n: a span of component n of the store's component table.</summary>
    public ulong Components;

    public int DatabaseCount;
    public int NPlusOne;
    public int DuplicateQueries;

    /// <summary>The trace's route (its root's name) in the store's route table; -1 until a root is known.</summary>
    public int Route;

    /// <summary>The bytes of the trace's blocks.</summary>
    public int Bytes;

    public ushort StatusCode;
    public byte Flags;

    /// <summary>The kind of the root's work: an index into <see cref="TraceKinds.All"/>.</summary>
    public byte Kind;

    /// <summary>Why the trace is kept once it has gone quiet (<see cref="TraceRetention"/>; recent until decided).</summary>
    public TraceRetention Retention;

    public const byte InUse = 1;
    public const byte RootIsReal = 2;

    public readonly bool IsInUse => (Flags & InUse) != 0;

    public readonly long DurationTicks => EndTicks - StartTicks;
}

/// <summary>Where one block of a trace is (its position in the segment ring), and the next block of the same trace.</summary>
internal struct BlockRef
{
    public long Position;
    public int Next;
    public int Slot;
}
