using FlowScope.Embedded.Storage.Encoding;

namespace FlowScope.Embedded.Storage.Memory;

/// <summary>
/// The in-memory store's index: one <see cref="TraceSlot"/> per trace in a growable array, an open-addressing hash
/// from trace id to slot, the list of traces ordered by their last change, and the pool of block references. Arrays
/// of plain structs only. Not thread-safe (the store's lock guards it).
/// </summary>
internal sealed class TraceTable
{
    /// <summary>Bytes one slot costs with its share of the hash table.</summary>
    public static readonly int BytesPerSlot = System.Runtime.CompilerServices.Unsafe.SizeOf<TraceSlot>() + 2 * sizeof(int);

    /// <summary>Bytes one block reference costs.</summary>
    public static readonly int BytesPerBlock = System.Runtime.CompilerServices.Unsafe.SizeOf<BlockRef>();

    private TraceSlot[] _slots;
    private int _slotsUsed;
    private int _freeSlot = -1;

    private BlockRef[] _blocks;
    private int _blocksUsed;
    private int _freeBlock = -1;

    // Slot index + 1 per bucket (0: empty); linear probing, at most half full.
    private int[] _buckets;

    public TraceTable(int initialSlots = 256)
    {
        _slots = new TraceSlot[initialSlots];
        _blocks = new BlockRef[initialSlots];
        _buckets = new int[initialSlots * 2];
    }

    /// <summary>The number of traces held.</summary>
    public int Count { get; private set; }

    /// <summary>The least recently changed trace (-1: none).</summary>
    public int Oldest { get; private set; } = -1;

    /// <summary>The most recently changed trace (-1: none).</summary>
    public int Newest { get; private set; } = -1;

    /// <summary>The bytes the index's arrays take.</summary>
    public long Bytes => ((long)_slots.Length * BytesPerSlot) + ((long)_blocks.Length * BytesPerBlock);

    /// <summary>The bytes the arrays would take after the next growth of slots or blocks.</summary>
    public long BytesAfterGrowth(bool slots, bool blocks) =>
        ((long)_slots.Length * (slots ? 2 : 1) * BytesPerSlot) + ((long)_blocks.Length * (blocks ? 2 : 1) * BytesPerBlock);

    /// <summary>Whether a new trace needs the slot array to grow.</summary>
    public bool SlotsFull => _freeSlot < 0 && _slotsUsed == _slots.Length;

    /// <summary>Whether a new block needs the block array to grow.</summary>
    public bool BlocksFull => _freeBlock < 0 && _blocksUsed == _blocks.Length;

    public ref TraceSlot this[int slot] => ref _slots[slot];

    public ref BlockRef Block(int block) => ref _blocks[block];

    /// <summary>The slot of <paramref name="id"/>, or -1.</summary>
    public int Find(TraceId128 id)
    {
        var mask = _buckets.Length - 1;
        for (var i = Hash(id) & mask; ; i = (i + 1) & mask)
        {
            var entry = _buckets[i];
            if (entry == 0)
            {
                return -1;
            }

            if (_slots[entry - 1].Id == id)
            {
                return entry - 1;
            }
        }
    }

    /// <summary>Adds a trace (not present) as the newest; returns its slot.</summary>
    public int Add(TraceId128 id, long version)
    {
        int slot;
        if (_freeSlot >= 0)
        {
            slot = _freeSlot;
            _freeSlot = _slots[slot].Newer;
        }
        else
        {
            if (_slotsUsed == _slots.Length)
            {
                Array.Resize(ref _slots, _slots.Length * 2);
                Rehash(_buckets.Length * 2);
            }

            slot = _slotsUsed++;
        }

        _slots[slot] = new TraceSlot
        {
            Id = id,
            StartTicks = long.MaxValue,
            EndTicks = long.MinValue,
            Version = version,
            Older = Newest,
            Newer = -1,
            FirstBlock = -1,
            LastBlock = -1,
            RootBlock = -1,
            Route = -1,
            Flags = TraceSlot.InUse,
        };
        if (Newest >= 0)
        {
            _slots[Newest].Newer = slot;
        }
        else
        {
            Oldest = slot;
        }

        Newest = slot;
        Insert(slot);
        Count++;
        return slot;
    }

    /// <summary>Marks a trace changed: it becomes the newest.</summary>
    public void Touch(int slot, long version)
    {
        ref var entry = ref _slots[slot];
        entry.Version = version;
        if (Newest == slot)
        {
            return;
        }

        Unlink(slot);
        entry.Older = Newest;
        entry.Newer = -1;
        _slots[Newest].Newer = slot;
        Newest = slot;
    }

    /// <summary>Removes a trace and frees its blocks' references.</summary>
    public void Remove(int slot)
    {
        ref var entry = ref _slots[slot];
        for (var block = entry.FirstBlock; block >= 0;)
        {
            var next = _blocks[block].Next;
            FreeBlock(block);
            block = next;
        }

        Unlink(slot);
        Delete(slot);
        entry = default;
        entry.Newer = _freeSlot;
        _freeSlot = slot;
        Count--;
    }

    /// <summary>Appends a block reference at the end of a trace's list; returns its index.</summary>
    public int AddBlock(int slot, long position)
    {
        int block;
        if (_freeBlock >= 0)
        {
            block = _freeBlock;
            _freeBlock = _blocks[block].Next;
        }
        else
        {
            if (_blocksUsed == _blocks.Length)
            {
                Array.Resize(ref _blocks, _blocks.Length * 2);
            }

            block = _blocksUsed++;
        }

        _blocks[block] = new BlockRef { Position = position, Next = -1, Slot = slot };
        ref var entry = ref _slots[slot];
        if (entry.LastBlock >= 0)
        {
            _blocks[entry.LastBlock].Next = block;
        }
        else
        {
            entry.FirstBlock = block;
        }

        entry.LastBlock = block;
        return block;
    }

    /// <summary>Whether <paramref name="block"/> is a live reference to the block at <paramref name="position"/>.</summary>
    public bool IsLive(int block, long position) => (uint)block < (uint)_blocksUsed && _blocks[block].Position == position;

    private void FreeBlock(int block)
    {
        _blocks[block] = new BlockRef { Position = -1, Next = _freeBlock, Slot = -1 };
        _freeBlock = block;
    }

    private void Unlink(int slot)
    {
        ref var entry = ref _slots[slot];
        if (entry.Older >= 0)
        {
            _slots[entry.Older].Newer = entry.Newer;
        }
        else
        {
            Oldest = entry.Newer;
        }

        if (entry.Newer >= 0)
        {
            _slots[entry.Newer].Older = entry.Older;
        }
        else
        {
            Newest = entry.Older;
        }
    }

    private static int Hash(TraceId128 id)
    {
        var mixed = (id.Low ^ (id.High * 0x9E3779B97F4A7C15UL)) * 0xBF58476D1CE4E5B9UL;
        return (int)(mixed >> 33);
    }

    private void Insert(int slot)
    {
        var mask = _buckets.Length - 1;
        var i = Hash(_slots[slot].Id) & mask;
        while (_buckets[i] != 0)
        {
            i = (i + 1) & mask;
        }

        _buckets[i] = slot + 1;
    }

    /// <summary>Removes a slot from the hash table, shifting later entries of its run back (no tombstones).</summary>
    private void Delete(int slot)
    {
        var mask = _buckets.Length - 1;
        var i = Hash(_slots[slot].Id) & mask;
        while (_buckets[i] != slot + 1)
        {
            i = (i + 1) & mask;
        }

        var hole = i;
        for (var j = (hole + 1) & mask; _buckets[j] != 0; j = (j + 1) & mask)
        {
            var home = Hash(_slots[_buckets[j] - 1].Id) & mask;

            // The entry at j may move into the hole if its home is not in (hole, j] (cyclically).
            var between = hole <= j ? home > hole && home <= j : home > hole || home <= j;
            if (!between)
            {
                _buckets[hole] = _buckets[j];
                _buckets[j] = 0;
                hole = j;
            }
        }

        _buckets[hole] = 0;
    }

    private void Rehash(int size)
    {
        _buckets = new int[size];
        for (var slot = 0; slot < _slotsUsed; slot++)
        {
            if (_slots[slot].IsInUse)
            {
                Insert(slot);
            }
        }
    }
}
