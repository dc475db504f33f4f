using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Text;

namespace FlowScope.Embedded.Storage.Encoding;

/// <summary>A text as it is encoded: a well-known number, or UTF-8 bytes. Compared and searched without decoding.</summary>
internal readonly ref struct Text
{
    public Text(int number)
    {
        Number = number;
        Utf8 = default;
    }

    public Text(ReadOnlySpan<byte> utf8)
    {
        Number = -1;
        Utf8 = utf8;
    }

    /// <summary>The well-known number, or -1 for an inline text.</summary>
    public int Number { get; }

    public ReadOnlySpan<byte> Utf8 { get; }

    public bool IsWellKnown => Number >= 0;

    public bool IsEmpty => Number == 0 || (Number < 0 && Utf8.IsEmpty);

    public override string ToString() => IsWellKnown ? WellKnownStrings.Get(Number) : System.Text.Encoding.UTF8.GetString(Utf8);

    /// <summary>Whether this text is <paramref name="value"/> (a <see cref="Needle"/> prepared once per query).</summary>
    public bool EqualsOrdinal(in Needle value) =>
        IsWellKnown ? value.WellKnown == Number : value.WellKnown < 0 && Utf8.SequenceEqual(value.Utf8);

    /// <summary>Whether this text equals <paramref name="value"/>, ignoring ASCII case.</summary>
    public bool EqualsIgnoreCase(in Needle value) =>
        IsWellKnown ? WellKnownStrings.Get(Number).Equals(value.Text, StringComparison.OrdinalIgnoreCase) : value.EqualsIgnoreCase(Utf8);

    /// <summary>Whether this text contains <paramref name="value"/>, ignoring case.</summary>
    public bool ContainsIgnoreCase(in Needle value) =>
        IsWellKnown ? WellKnownStrings.Get(Number).Contains(value.Text, StringComparison.OrdinalIgnoreCase) : value.FoundIn(Utf8);
}

/// <summary>A text looked for in payloads, prepared once: its well-known number and UTF-8 bytes.</summary>
internal sealed class Needle
{
    private readonly bool _ascii;

    public Needle(string text)
    {
        Text = text;
        WellKnown = WellKnownStrings.NumberOf(text);
        Utf8 = System.Text.Encoding.UTF8.GetBytes(text);
        _ascii = Ascii.IsValid(text);
    }

    public string Text { get; }

    public int WellKnown { get; }

    /// <summary>
    /// Whether every text containing the needle holds it as contiguous bytes that a scan of raw payload bytes finds:
    /// an ASCII needle that no well-known text contains (those are written as numbers).
    /// </summary>
    public bool CanScanBytes => _ascii && Utf8.Length > 0 && !WellKnownStrings.AnyContains(Text);

    public byte[] Utf8 { get; }

    public bool EqualsIgnoreCase(ReadOnlySpan<byte> utf8) =>
        _ascii ? Ascii.EqualsIgnoreCase(utf8, Utf8) : System.Text.Encoding.UTF8.GetString(utf8).Equals(Text, StringComparison.OrdinalIgnoreCase);

    /// <summary>Whether <paramref name="utf8"/> contains the needle, ignoring case.</summary>
    public bool FoundIn(ReadOnlySpan<byte> utf8)
    {
        if (Utf8.Length == 0)
        {
            return true;
        }

        if (!_ascii)
        {
            return utf8.Length >= Utf8.Length && System.Text.Encoding.UTF8.GetString(utf8).Contains(Text, StringComparison.OrdinalIgnoreCase);
        }

        return ContainsIgnoreAsciiCase(utf8, Utf8);
    }

    /// <summary>
    /// Whether <paramref name="haystack"/> holds <paramref name="needle"/> (ASCII), ignoring ASCII case. Vectorised: 16
    /// positions at a time are tested on their first and last byte with case folded (setting bit 0x20, which folds
    /// letters and leaves a few other bytes colliding), and only those candidates are compared in full.
    /// </summary>
    internal static bool ContainsIgnoreAsciiCase(ReadOnlySpan<byte> haystack, ReadOnlySpan<byte> needle)
    {
        var n = needle.Length;
        var last = haystack.Length - n;
        if (last < 0)
        {
            return false;
        }

        var first = (byte)(needle[0] | 0x20);
        var end = (byte)(needle[n - 1] | 0x20);
        var i = 0;
        if (Vector128.IsHardwareAccelerated && last >= Vector128<byte>.Count)
        {
            var fold = Vector128.Create((byte)0x20);
            var firsts = Vector128.Create(first);
            var ends = Vector128.Create(end);
            ref var start = ref MemoryMarshal.GetReference(haystack);
            for (; i + Vector128<byte>.Count - 1 <= last; i += Vector128<byte>.Count)
            {
                var a = Vector128.LoadUnsafe(ref start, (nuint)i) | fold;
                var b = Vector128.LoadUnsafe(ref start, (nuint)(i + n - 1)) | fold;
                var candidates = (Vector128.Equals(a, firsts) & Vector128.Equals(b, ends)).ExtractMostSignificantBits();
                while (candidates != 0)
                {
                    var at = i + BitOperations.TrailingZeroCount(candidates);
                    if (Ascii.EqualsIgnoreCase(haystack.Slice(at, n), needle))
                    {
                        return true;
                    }

                    candidates &= candidates - 1;
                }
            }
        }

        for (; i <= last; i++)
        {
            if ((haystack[i] | 0x20) == first && (haystack[i + n - 1] | 0x20) == end && Ascii.EqualsIgnoreCase(haystack.Slice(i, n), needle))
            {
                return true;
            }
        }

        return false;
    }
}

/// <summary>Reads a span payload's variable part in order. Throws <see cref="InvalidDataException"/> when it is malformed.</summary>
internal ref struct PayloadReader
{
    private readonly ReadOnlySpan<byte> _data;
    private int _position;

    public PayloadReader(ReadOnlySpan<byte> data, int position)
    {
        _data = data;
        _position = position;
    }

    public readonly int Position => _position;

    public readonly bool AtEnd => _position >= _data.Length;

    public byte ReadByte()
    {
        if ((uint)_position >= (uint)_data.Length)
        {
            throw Truncated();
        }

        return _data[_position++];
    }

    public ulong ReadVarUInt()
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            var b = ReadByte();
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }

        throw new InvalidDataException("A varint in the span payload is too long.");
    }

    public long ReadVarInt()
    {
        var raw = ReadVarUInt();
        return (long)(raw >> 1) ^ -(long)(raw & 1);
    }

    /// <summary>Reads a count, checked against the bytes left so a corrupt payload cannot make a reader allocate much.</summary>
    public int ReadCount()
    {
        var value = ReadVarUInt();
        if (value > (ulong)(_data.Length - _position))
        {
            throw Truncated();
        }

        return (int)value;
    }

    public Text ReadText()
    {
        var value = ReadVarUInt();
        if ((value & 1) == 0)
        {
            var number = value >> 1;
            if (number >= (ulong)WellKnownStrings.Count)
            {
                throw new InvalidDataException("A well-known text number in the span payload is out of range.");
            }

            return new Text((int)number);
        }

        return new Text(Take(checked((int)(value >> 1))));
    }

    public string ReadString() => ReadText().ToString();

    public void SkipText() => ReadText();

    public ulong ReadUInt64BigEndian() => BinaryPrimitives.ReadUInt64BigEndian(Take(8));

    public ReadOnlySpan<byte> Take(int length)
    {
        if ((uint)length > (uint)(_data.Length - _position))
        {
            throw Truncated();
        }

        var slice = _data.Slice(_position, length);
        _position += length;
        return slice;
    }

    /// <summary>Skips an attribute list (count, then key and value texts).</summary>
    public void SkipAttributes()
    {
        var count = ReadCount();
        for (var i = 0; i < count; i++)
        {
            SkipText();
            SkipText();
        }
    }

    /// <summary>Skips an event list.</summary>
    public void SkipEvents()
    {
        var count = ReadCount();
        for (var i = 0; i < count; i++)
        {
            SkipText();
            ReadVarInt();
            SkipAttributes();
        }
    }

    internal static InvalidDataException Truncated() => new("The span payload is truncated.");
}
