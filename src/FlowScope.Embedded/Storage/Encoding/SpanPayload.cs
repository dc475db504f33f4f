using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;

namespace FlowScope.Embedded.Storage.Encoding;

/// <summary>
/// One encoded span (<see cref="PayloadLayout"/>), read in place: the fixed header by field, the rest in order. Costs
/// nothing to make; reading a field reads those bytes only.
/// </summary>
internal readonly ref struct SpanPayload
{
    public SpanPayload(ReadOnlySpan<byte> data)
    {
        if (data.Length < PayloadLayout.HeaderSize || data[PayloadLayout.VersionOffset] != PayloadLayout.Version)
        {
            throw new InvalidDataException("Not a span payload of a known layout.");
        }

        Data = data;
    }

    public ReadOnlySpan<byte> Data { get; }

    public byte Flags => Data[PayloadLayout.FlagsOffset];

    public ActivityKind Kind => (ActivityKind)Data[PayloadLayout.KindOffset];

    public ActivityStatusCode Status => (ActivityStatusCode)Data[PayloadLayout.StatusOffset];

    public bool IsError => Status == ActivityStatusCode.Error;

    public int StageCount => BinaryPrimitives.ReadUInt16LittleEndian(Data[PayloadLayout.StageCountOffset..]);

    public int FailedStages => BinaryPrimitives.ReadUInt16LittleEndian(Data[PayloadLayout.FailedStagesOffset..]);

    /// <summary>The spans this payload stands for: the span and its stages.</summary>
    public int SpanCount => 1 + StageCount;

    /// <summary>The failed spans among them.</summary>
    public int ErrorCount => (IsError ? 1 : 0) + FailedStages;

    public int StagesOffset => (int)BinaryPrimitives.ReadUInt32LittleEndian(Data[PayloadLayout.StagesOffsetOffset..]);

    /// <summary>Bit n: a stage has the well-known component text n.</summary>
    public ushort StageComponents => BinaryPrimitives.ReadUInt16LittleEndian(Data[PayloadLayout.StageComponentsOffset..]);

    public TraceId128 TraceId => new(
        BinaryPrimitives.ReadUInt64BigEndian(Data[PayloadLayout.TraceIdOffset..]),
        BinaryPrimitives.ReadUInt64BigEndian(Data[(PayloadLayout.TraceIdOffset + 8)..]));

    public ulong SpanId => BinaryPrimitives.ReadUInt64BigEndian(Data[PayloadLayout.SpanIdOffset..]);

    /// <summary>The parent span id, 0 for none.</summary>
    public ulong ParentId => BinaryPrimitives.ReadUInt64BigEndian(Data[PayloadLayout.ParentIdOffset..]);

    public bool HasRemoteParent => (Flags & PayloadLayout.RemoteParent) != 0;

    /// <summary>Whether the span starts its trace here: no parent, or a parent in another process.</summary>
    public bool IsRoot => ParentId == 0 || HasRemoteParent;

    public long StartTicks => BinaryPrimitives.ReadInt64LittleEndian(Data[PayloadLayout.StartOffset..]);

    public long DurationTicks => BinaryPrimitives.ReadInt64LittleEndian(Data[PayloadLayout.DurationOffset..]);

    public long EndTicks => StartTicks + DurationTicks;

    /// <summary>A reader at the name, the first text after the header.</summary>
    public PayloadReader Body() => new(Data, PayloadLayout.HeaderSize);

    /// <summary>The name, component, source and instance, read in one pass.</summary>
    public void ReadTexts(out Text name, out Text component, out Text source, out Text instance)
    {
        var reader = Body();
        name = reader.ReadText();
        component = reader.ReadText();
        source = reader.ReadText();
        instance = reader.ReadText();
    }

    public Text Name => Body().ReadText();

    public Text Component
    {
        get
        {
            var reader = Body();
            reader.SkipText();
            return reader.ReadText();
        }
    }

    /// <summary>A reader at the attribute count.</summary>
    public PayloadReader Attributes()
    {
        var reader = Body();
        reader.SkipText();
        reader.SkipText();
        reader.SkipText();
        reader.SkipText();
        return reader;
    }

    /// <summary>The value of the attribute whose key is the well-known text <paramref name="wellKnownKey"/>.</summary>
    public bool TryGetAttribute(int wellKnownKey, out Text value)
    {
        var reader = Attributes();
        var count = reader.ReadCount();
        for (var i = 0; i < count; i++)
        {
            var key = reader.ReadText();
            var v = reader.ReadText();
            if (key.Number == wellKnownKey)
            {
                value = v;
                return true;
            }
        }

        value = default;
        return false;
    }

    /// <summary>
    /// The value of a count attribute (a non-negative integer, such as <c>flowscope.db.count</c>) with the well-known
    /// key <paramref name="wellKnownKey"/>; 0 when it is absent or not such a number. Reads in place, allocates nothing.
    /// </summary>
    public int CountOf(int wellKnownKey)
    {
        if (!TryGetAttribute(wellKnownKey, out var value))
        {
            return 0;
        }

        if (value.IsWellKnown)
        {
            return int.TryParse(WellKnownStrings.Get(value.Number), NumberStyles.None, CultureInfo.InvariantCulture, out var known) ? known : 0;
        }

        return System.Buffers.Text.Utf8Parser.TryParse(value.Utf8, out int number, out var consumed) && consumed == value.Utf8.Length && number >= 0 ? number : 0;
    }

    /// <summary>The value of attribute <paramref name="key"/> as a string, or <see langword="null"/>.</summary>
    public string? GetAttribute(string key)
    {
        var number = WellKnownStrings.NumberOf(key);
        var reader = Attributes();
        var count = reader.ReadCount();
        for (var i = 0; i < count; i++)
        {
            var k = reader.ReadText();
            var v = reader.ReadText();
            if (number >= 0 ? k.Number == number : !k.IsWellKnown && System.Text.Encoding.UTF8.GetString(k.Utf8) == key)
            {
                return v.ToString();
            }
        }

        return null;
    }

    /// <summary>The stage section (valid only when <see cref="StageCount"/> is not 0).</summary>
    public StageSection Stages() => new(Data, StagesOffset, StageCount, StartTicks, DurationTicks);
}

/// <summary>A trace id as two numbers (its 32 hex digits, high half first).</summary>
internal readonly record struct TraceId128(ulong High, ulong Low)
{
    public static TraceId128 Of(ActivityTraceId id)
    {
        Span<byte> bytes = stackalloc byte[16];
        if (Convert.FromHexString(id.ToHexString(), bytes, out _, out var written) != System.Buffers.OperationStatus.Done || written != 16)
        {
            id.CopyTo(bytes);
        }

        return new TraceId128(BinaryPrimitives.ReadUInt64BigEndian(bytes), BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]));
    }

    /// <summary>Parses 32 hex digits (either case).</summary>
    public static bool TryParse(ReadOnlySpan<char> text, out TraceId128 id)
    {
        Span<byte> bytes = stackalloc byte[16];
        if (text.Length == 32 && Convert.FromHexString(text, bytes, out _, out var written) == System.Buffers.OperationStatus.Done && written == 16)
        {
            id = new TraceId128(BinaryPrimitives.ReadUInt64BigEndian(bytes), BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]));
            return true;
        }

        id = default;
        return false;
    }

    /// <summary>Ordinal order of the 32-digit texts.</summary>
    public static int Compare(TraceId128 a, TraceId128 b) => a.High != b.High ? a.High.CompareTo(b.High) : a.Low.CompareTo(b.Low);

    public override string ToString() => string.Create(32, this, static (chars, v) =>
    {
        v.High.TryFormat(chars, out _, "x16", System.Globalization.CultureInfo.InvariantCulture);
        v.Low.TryFormat(chars[16..], out _, "x16", System.Globalization.CultureInfo.InvariantCulture);
    });
}
