using System.Buffers.Binary;
using System.Text;

namespace FlowScope.Embedded.Storage.Encoding;

/// <summary>
/// Writes span payloads (<see cref="PayloadLayout"/>) one after another into a growable buffer. Not thread-safe;
/// the buffer is reused between batches.
/// </summary>
internal sealed class PayloadWriter
{
    private byte[] _buffer;
    private int _length;
    private int _start = -1;

    public PayloadWriter(int initialCapacity = 64 * 1024)
    {
        _buffer = new byte[initialCapacity];
    }

    /// <summary>The bytes written so far (every finished payload, and the current one).</summary>
    public ReadOnlySpan<byte> Written => _buffer.AsSpan(0, _length);

    /// <summary>The buffer itself (valid up to <see cref="Length"/>).</summary>
    internal byte[] Buffer => _buffer;

    public int Length => _length;

    /// <summary>The position of the payload being written, relative to its start.</summary>
    public int PayloadPosition => _length - _start;

    public void Clear()
    {
        _length = 0;
        _start = -1;
    }

    /// <summary>Starts a payload: writes a zeroed header and returns where it starts.</summary>
    public int Begin()
    {
        _start = _length;
        Ensure(PayloadLayout.HeaderSize);
        _buffer.AsSpan(_length, PayloadLayout.HeaderSize).Clear();
        _buffer[_length + PayloadLayout.VersionOffset] = PayloadLayout.Version;
        _length += PayloadLayout.HeaderSize;
        return _start;
    }

    /// <summary>Drops the payload being written (for example to write it again smaller).</summary>
    public void Abandon()
    {
        _length = _start;
        _start = -1;
    }

    /// <summary>Ends the payload being written; returns its length.</summary>
    public int End()
    {
        var length = _length - _start;
        _start = -1;
        return length;
    }

    /// <summary>The header of the payload being written.</summary>
    public Span<byte> Header => _buffer.AsSpan(_start, PayloadLayout.HeaderSize);

    public void WriteByte(byte value)
    {
        Ensure(1);
        _buffer[_length++] = value;
    }

    public void WriteBytes(ReadOnlySpan<byte> bytes)
    {
        Ensure(bytes.Length);
        bytes.CopyTo(_buffer.AsSpan(_length));
        _length += bytes.Length;
    }

    public void WriteUInt64BigEndian(ulong value)
    {
        Ensure(8);
        BinaryPrimitives.WriteUInt64BigEndian(_buffer.AsSpan(_length), value);
        _length += 8;
    }

    public void WriteVarUInt(ulong value)
    {
        Ensure(10);
        var buffer = _buffer;
        var i = _length;
        while (value >= 0x80)
        {
            buffer[i++] = (byte)(value | 0x80);
            value >>= 7;
        }

        buffer[i++] = (byte)value;
        _length = i;
    }

    public void WriteVarInt(long value) => WriteVarUInt((ulong)((value << 1) ^ (value >> 63)));

    /// <summary>Writes a text: a well-known number when it is one, else its UTF-8 bytes.</summary>
    public void WriteText(string? value) => WriteText(value.AsSpan(), truncated: false, allowWellKnown: true);

    /// <summary>Writes a text cut to <paramref name="maxLength"/> characters (then ending in "…").</summary>
    public void WriteText(string value, int maxLength)
    {
        if (value.Length <= maxLength)
        {
            WriteText(value);
            return;
        }

        // Never split a surrogate pair.
        var cut = maxLength > 0 && char.IsHighSurrogate(value[maxLength - 1]) ? maxLength - 1 : maxLength;
        WriteText(value.AsSpan(0, cut), truncated: true, allowWellKnown: false);
    }

    private void WriteText(ReadOnlySpan<char> value, bool truncated, bool allowWellKnown)
    {
        if (value.IsEmpty && !truncated)
        {
            WriteVarUInt(0);
            return;
        }

        if (allowWellKnown && value.Length <= 40 && WellKnownStrings.NumberOf(value) is var number and >= 0)
        {
            WriteVarUInt((ulong)number << 1);
            return;
        }

        var byteCount = System.Text.Encoding.UTF8.GetByteCount(value) + (truncated ? Ellipsis.Length : 0);
        WriteVarUInt(((ulong)byteCount << 1) | 1);
        Ensure(byteCount);
        var written = System.Text.Encoding.UTF8.GetBytes(value, _buffer.AsSpan(_length));
        if (truncated)
        {
            Ellipsis.CopyTo(_buffer.AsSpan(_length + written));
        }

        _length += byteCount;
    }

    /// <summary>Copies a text as it was encoded elsewhere (its varint and bytes).</summary>
    public void WriteEncodedText(in Text text)
    {
        if (text.IsWellKnown)
        {
            WriteVarUInt((ulong)text.Number << 1);
        }
        else
        {
            WriteVarUInt(((ulong)text.Utf8.Length << 1) | 1);
            WriteBytes(text.Utf8);
        }
    }

    private static ReadOnlySpan<byte> Ellipsis => "…"u8;

    private void Ensure(int more)
    {
        if (_length + more <= _buffer.Length)
        {
            return;
        }

        var size = Math.Max(_buffer.Length * 2, _length + more);
        Array.Resize(ref _buffer, size);
    }
}
