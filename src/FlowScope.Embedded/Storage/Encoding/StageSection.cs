using FlowScope.Embedded.Capture;

namespace FlowScope.Embedded.Storage.Encoding;

/// <summary>One pipeline stage of a request payload, as its entry in the stage section holds it.</summary>
internal struct StageEntry
{
    /// <summary>The stage's kind: a <see cref="StageDefinition.Id"/> of this process.</summary>
    public int Definition;

    /// <summary>UTC ticks.</summary>
    public long StartTicks;

    public long DurationTicks;

    /// <summary>The index of the enclosing stage, -1 for the request itself.</summary>
    public int Parent;

    public byte Flags;

    public readonly bool Failed => (Flags & PayloadLayout.StageFailed) != 0;

    public readonly bool HasDetails => (Flags & PayloadLayout.StageHasDetails) != 0;

    public readonly long EndTicks => StartTicks + DurationTicks;
}

/// <summary>The stage section of a request payload (see <see cref="PayloadLayout"/>).</summary>
internal readonly ref struct StageSection
{
    private readonly ReadOnlySpan<byte> _data;
    private readonly int _offset;
    private readonly long _spanStart;

    public StageSection(ReadOnlySpan<byte> data, int offset, int count, long spanStart, long spanDuration)
    {
        _data = data;
        _offset = offset;
        Count = count;
        _spanStart = spanStart;
        _ = spanDuration;
    }

    public int Count { get; }

    /// <summary>
    /// Reads every stage entry into <paramref name="into"/> (at least <see cref="Count"/> long) and returns a reader
    /// at the details that follow them, with the stages-with-children mask.
    /// </summary>
    public PayloadReader ReadEntries(Span<StageEntry> into, out ulong withChildren)
    {
        var reader = new PayloadReader(_data, _offset);
        withChildren = reader.ReadVarUInt();
        for (var i = 0; i < Count; i++)
        {
            ref var entry = ref into[i];
            entry.Definition = checked((int)reader.ReadVarUInt());
            entry.StartTicks = _spanStart + reader.ReadVarInt();
            entry.DurationTicks = checked((long)reader.ReadVarUInt());
            entry.Parent = checked((int)reader.ReadVarUInt()) - 1;
            entry.Flags = reader.ReadByte();
            if (entry.Parent >= i)
            {
                throw new InvalidDataException("A stage's parent must come before it.");
            }
        }

        return reader;
    }

    /// <summary>Whether stage <paramref name="index"/> may be the parent of a recorded span (an activity started while it ran).</summary>
    public static bool MayBeParent(ulong withChildren, int index) => (withChildren & (1UL << Math.Min(index, 63))) != 0;

    /// <summary>Every stage's own time (its duration less that of the stages directly in it, never negative), in ticks.</summary>
    public static void SelfTimes(ReadOnlySpan<StageEntry> stages, Span<long> into)
    {
        for (var i = 0; i < stages.Length; i++)
        {
            into[i] = stages[i].DurationTicks;
        }

        for (var i = 0; i < stages.Length; i++)
        {
            if (stages[i].Parent >= 0)
            {
                into[stages[i].Parent] -= stages[i].DurationTicks;
            }
        }

        for (var i = 0; i < stages.Length; i++)
        {
            into[i] = Math.Max(0, into[i]);
        }
    }

    /// <summary>The span id of stage <paramref name="index"/> of the request span <paramref name="request"/>: stable, derived.</summary>
    public static ulong StageSpanId(ulong request, int index)
    {
        var value = request ^ ((ulong)(index + 1) * 0x9E3779B97F4A7C15UL);
        value ^= value >> 31;
        return value == 0 ? 1UL : value;
    }
}
