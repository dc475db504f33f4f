using System.Buffers.Binary;
using FlowScope.Embedded.Storage.Encoding;

namespace FlowScope.Embedded.Storage.Memory;

/// <summary>
/// The in-memory store's bytes: a ring of large segments (each one array on the large-object heap, which the garbage
/// collector neither copies nor scans), appended to at the head and emptied from the tail. A block is one span
/// payload behind an 8-byte header (its length and the index of the block reference that owns it). A block's position
/// is its segment's serial number (which only grows) and its offset, so a position is never reused. Not thread-safe.
/// </summary>
internal sealed class SegmentRing
{
    public const int BlockHeaderSize = 8;

    private readonly Segment?[] _live;
    private readonly Stack<byte[]> _spare = new();
    private int _liveStart;
    private int _liveCount;
    private long _oldestSerial;

    public SegmentRing(int segmentSize, int maxSegments)
    {
        SegmentSize = segmentSize;
        _live = new Segment?[Math.Max(maxSegments, 1) + 1];
    }

    public int SegmentSize { get; }

    /// <summary>The segments holding blocks (the head included).</summary>
    public int LiveCount => _liveCount;

    /// <summary>The bytes of every segment array held (live and spare).</summary>
    public long Bytes => ((long)_liveCount + _spare.Count) * SegmentSize;

    /// <summary>The serial number of the oldest live segment.</summary>
    public long OldestSerial => _oldestSerial;

    /// <summary>The serial number of the head segment (-1 before the first).</summary>
    public long HeadSerial => _liveCount == 0 ? _oldestSerial - 1 : _oldestSerial + _liveCount - 1;

    public static long SerialOf(long position) => position >> 32;

    /// <summary>Whether a block of <paramref name="payloadLength"/> fits in the head segment.</summary>
    public bool FitsInHead(int payloadLength) =>
        _liveCount > 0 && Head.Used + BlockHeaderSize + payloadLength <= SegmentSize;

    /// <summary>Whether a payload of this length can ever be stored (it must fit in an empty segment).</summary>
    public bool CanHold(int payloadLength) => BlockHeaderSize + payloadLength <= SegmentSize;

    /// <summary>Starts a new head segment from a spare array or a new one (the caller checked the memory budget).</summary>
    public void AddSegment()
    {
        if (_liveCount == _live.Length)
        {
            throw new InvalidOperationException("The segment ring is full; recycle the oldest segment first.");
        }

        var buffer = _spare.Count > 0 ? _spare.Pop() : new byte[SegmentSize];
        var serial = _oldestSerial + _liveCount;
        _live[(_liveStart + _liveCount) % _live.Length] = new Segment(buffer, serial);
        _liveCount++;
    }

    /// <summary>Whether a new segment can be started without recycling (room in the ring).</summary>
    public bool HasRoomForSegment(int maxSegments) => _liveCount < Math.Min(maxSegments, _live.Length);

    /// <summary>Appends a block to the head segment (it must fit); returns its position.</summary>
    public long Append(ReadOnlySpan<byte> payload, int blockRef)
    {
        var head = Head;
        var offset = head.Used;
        var target = head.Buffer.AsSpan(offset);
        BinaryPrimitives.WriteInt32LittleEndian(target, payload.Length);
        BinaryPrimitives.WriteInt32LittleEndian(target[4..], blockRef);
        payload.CopyTo(target[BlockHeaderSize..]);
        head.Used = offset + BlockHeaderSize + payload.Length;
        return (head.Serial << 32) | (uint)offset;
    }

    /// <summary>Points the block at <paramref name="position"/> to another block reference (after it was copied or its reference moved).</summary>
    public void SetOwner(long position, int blockRef) =>
        BinaryPrimitives.WriteInt32LittleEndian(SegmentAt(position).Buffer.AsSpan((int)(uint)position + 4), blockRef);

    /// <summary>The payload of the block at <paramref name="position"/>.</summary>
    public ReadOnlySpan<byte> Payload(long position)
    {
        var segment = SegmentAt(position);
        var offset = (int)(uint)position;
        var length = BinaryPrimitives.ReadInt32LittleEndian(segment.Buffer.AsSpan(offset));
        return segment.Buffer.AsSpan(offset + BlockHeaderSize, length);
    }

    /// <summary>The oldest live segment's blocks, in order: (position, owner reference, payload).</summary>
    public BlockEnumerator OldestBlocks() => new(_live[_liveStart]!);

    /// <summary>The used bytes of the oldest segment.</summary>
    public ReadOnlySpan<byte> OldestBytes => _live[_liveStart]!.Buffer.AsSpan(0, _live[_liveStart]!.Used);

    /// <summary>Every live segment's used bytes, oldest first, with its serial.</summary>
    public IEnumerable<(long Serial, byte[] Buffer, int Used)> Segments()
    {
        for (var i = 0; i < _liveCount; i++)
        {
            var segment = _live[(_liveStart + i) % _live.Length]!;
            yield return (segment.Serial, segment.Buffer, segment.Used);
        }
    }

    /// <summary>
    /// Which live segments (by <c>serial - OldestSerial</c>) hold the needle's bytes anywhere, ignoring ASCII case: a
    /// payload in any other segment cannot contain it. One vectorised pass over the used bytes.
    /// </summary>
    public bool[] SegmentsContaining(Needle needle)
    {
        var found = new bool[_liveCount];
        for (var i = 0; i < _liveCount; i++)
        {
            var segment = _live[(_liveStart + i) % _live.Length]!;
            found[i] = needle.FoundIn(segment.Buffer.AsSpan(0, segment.Used));
        }

        return found;
    }

    /// <summary>Removes the oldest segment (its blocks must have been dealt with); keeps its array for reuse unless <paramref name="release"/>.</summary>
    public void DropOldest(bool release)
    {
        var oldest = _live[_liveStart]!;
        _live[_liveStart] = null;
        _liveStart = (_liveStart + 1) % _live.Length;
        _liveCount--;
        _oldestSerial++;
        if (!release)
        {
            _spare.Push(oldest.Buffer);
        }
    }

    /// <summary>Whether an emptied segment's array waits for reuse.</summary>
    public bool HasSpare => _spare.Count > 0;

    /// <summary>Lets go of spare arrays (to give their memory to the index).</summary>
    public bool ReleaseSpare()
    {
        if (_spare.Count == 0)
        {
            return false;
        }

        _spare.Pop();
        return true;
    }

    private Segment Head => _live[(_liveStart + _liveCount - 1) % _live.Length]!;

    private Segment SegmentAt(long position)
    {
        var serial = position >> 32;
        var index = serial - _oldestSerial;
        if ((ulong)index >= (ulong)_liveCount)
        {
            throw new InvalidOperationException("The block's segment is no longer held.");
        }

        return _live[(int)((_liveStart + index) % _live.Length)]!;
    }

    private sealed class Segment(byte[] buffer, long serial)
    {
        public readonly byte[] Buffer = buffer;
        public readonly long Serial = serial;
        public int Used;
    }

    /// <summary>Walks the blocks of one segment.</summary>
    public struct BlockEnumerator
    {
        private readonly Segment _segment;
        private int _next;

        internal BlockEnumerator(object segment)
        {
            _segment = (Segment)segment;
            _next = 0;
            Offset = -1;
        }

        public int Offset { get; private set; }

        public readonly long Position => (_segment.Serial << 32) | (uint)Offset;

        public readonly int Owner => BinaryPrimitives.ReadInt32LittleEndian(_segment.Buffer.AsSpan(Offset + 4));

        public readonly ReadOnlySpan<byte> Payload =>
            _segment.Buffer.AsSpan(Offset + BlockHeaderSize, BinaryPrimitives.ReadInt32LittleEndian(_segment.Buffer.AsSpan(Offset)));

        public bool MoveNext()
        {
            if (_next >= _segment.Used)
            {
                return false;
            }

            Offset = _next;
            _next = Offset + BlockHeaderSize + BinaryPrimitives.ReadInt32LittleEndian(_segment.Buffer.AsSpan(Offset));
            return true;
        }
    }
}
