using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Compression;
using System.Text;
using FlowScope.Embedded.Storage;

namespace FlowScope.Embedded.Redis.Internal;

/// <summary>
/// Encodes a batch of spans as the payload of one stream entry (format version 1, documented in docs/redis.md):
/// a string table followed by fixed-order span fields that refer to it, so names, keys and repeated values are
/// written once per entry, and W3C ids travel as raw bytes. Optionally deflate-compressed.
/// One instance per writer thread: the buffers are reused between batches.
/// </summary>
internal sealed class SpanBatchCodec
{
    /// <summary>The payload format version, written in the entry's <c>v</c> field.</summary>
    public const int FormatVersion = 1;

    private const byte FlagHasParent = 1;
    private const byte FlagRemoteParent = 2;
    private const byte FlagTextTraceId = 4;
    private const byte FlagTextSpanIds = 8;
    private const byte FlagHasStatusMessage = 16;

    private readonly Dictionary<string, int> _strings = new(StringComparer.Ordinal);
    private readonly List<string> _stringList = [];
    private readonly ArrayBufferWriter<byte> _body = new(64 * 1024);
    private readonly ArrayBufferWriter<byte> _whole = new(64 * 1024);

    /// <summary>Encodes <paramref name="count"/> spans starting at <paramref name="offset"/>.</summary>
    public byte[] Encode(IReadOnlyList<SpanRecord> spans, int offset, int count, bool compress)
    {
        _strings.Clear();
        _stringList.Clear();
        _body.ResetWrittenCount();
        _whole.ResetWrittenCount();

        var baseTicks = long.MaxValue;
        for (var i = offset; i < offset + count; i++)
        {
            baseTicks = Math.Min(baseTicks, spans[i].StartTime.UtcTicks);
        }

        for (var i = offset; i < offset + count; i++)
        {
            WriteSpan(spans[i], baseTicks);
        }

        WriteVarUInt(_whole, (ulong)_stringList.Count);
        foreach (var s in _stringList)
        {
            var length = Encoding.UTF8.GetByteCount(s);
            WriteVarUInt(_whole, (ulong)length);
            Encoding.UTF8.GetBytes(s, _whole.GetSpan(length));
            _whole.Advance(length);
        }

        WriteVarUInt(_whole, (ulong)count);
        BinaryPrimitives.WriteInt64LittleEndian(_whole.GetSpan(8), baseTicks);
        _whole.Advance(8);
        _whole.Write(_body.WrittenSpan);

        if (!compress)
        {
            return _whole.WrittenSpan.ToArray();
        }

        using var compressed = new MemoryStream(_whole.WrittenCount / 2);
        using (var deflate = new DeflateStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
        {
            deflate.Write(_whole.WrittenSpan);
        }

        return compressed.ToArray();
    }

    private void WriteSpan(SpanRecord span, long baseTicks)
    {
        var w = _body;
        byte flags = 0;
        var binaryTrace = IsLowerHex(span.TraceId, 32);
        var binarySpans = IsLowerHex(span.SpanId, 16) && (span.ParentSpanId is null || IsLowerHex(span.ParentSpanId, 16));
        if (span.ParentSpanId is not null)
        {
            flags |= FlagHasParent;
        }

        if (span.HasRemoteParent)
        {
            flags |= FlagRemoteParent;
        }

        if (!binaryTrace)
        {
            flags |= FlagTextTraceId;
        }

        if (!binarySpans)
        {
            flags |= FlagTextSpanIds;
        }

        if (span.StatusMessage is not null)
        {
            flags |= FlagHasStatusMessage;
        }

        var head = w.GetSpan(3);
        head[0] = flags;
        head[1] = (byte)span.Kind;
        head[2] = (byte)span.Status;
        w.Advance(3);

        WriteId(w, span.TraceId, binaryTrace, 16);
        WriteId(w, span.SpanId, binarySpans, 8);
        if (span.ParentSpanId is not null)
        {
            WriteId(w, span.ParentSpanId, binarySpans, 8);
        }

        WriteString(span.Name);
        WriteString(span.Component);
        WriteString(span.Source);
        WriteString(span.Instance);
        WriteVarUInt(w, (ulong)(span.StartTime.UtcTicks - baseTicks));
        WriteVarInt(w, span.Duration.Ticks);
        if (span.StatusMessage is not null)
        {
            WriteString(span.StatusMessage);
        }

        WriteAttributes(span.Attributes);
        WriteVarUInt(w, (ulong)span.Events.Count);
        foreach (var e in span.Events)
        {
            WriteString(e.Name);
            WriteVarInt(w, e.Timestamp.UtcTicks - span.StartTime.UtcTicks);
            WriteAttributes(e.Attributes);
        }

        WriteVarUInt(w, (ulong)span.Links.Count);
        foreach (var link in span.Links)
        {
            WriteString(link.TraceId);
            WriteString(link.SpanId);
        }
    }

    private void WriteId(ArrayBufferWriter<byte> w, string id, bool binary, int byteLength)
    {
        if (binary)
        {
            Convert.FromHexString(id, w.GetSpan(byteLength), out _, out _);
            w.Advance(byteLength);
        }
        else
        {
            WriteString(id);
        }
    }

    private void WriteAttributes(IReadOnlyList<KeyValuePair<string, string>> attributes)
    {
        WriteVarUInt(_body, (ulong)attributes.Count);
        for (var i = 0; i < attributes.Count; i++)
        {
            WriteString(attributes[i].Key);
            WriteString(attributes[i].Value ?? string.Empty);
        }
    }

    private void WriteString(string value)
    {
        if (!_strings.TryGetValue(value, out var index))
        {
            index = _stringList.Count;
            _strings.Add(value, index);
            _stringList.Add(value);
        }

        WriteVarUInt(_body, (ulong)index);
    }

    private static bool IsLowerHex(string value, int length)
    {
        if (value.Length != length)
        {
            return false;
        }

        foreach (var c in value)
        {
            if (!char.IsAsciiDigit(c) && c is not (>= 'a' and <= 'f'))
            {
                return false;
            }
        }

        return true;
    }

    private static void WriteVarUInt(ArrayBufferWriter<byte> w, ulong value)
    {
        var span = w.GetSpan(10);
        var i = 0;
        while (value >= 0x80)
        {
            span[i++] = (byte)(value | 0x80);
            value >>= 7;
        }

        span[i++] = (byte)value;
        w.Advance(i);
    }

    private static void WriteVarInt(ArrayBufferWriter<byte> w, long value) => WriteVarUInt(w, (ulong)((value << 1) ^ (value >> 63)));

    /// <summary>Decodes a payload written by <see cref="Encode"/>.</summary>
    /// <exception cref="InvalidDataException">The payload is not a valid version 1 payload.</exception>
    public static SpanRecord[] Decode(ReadOnlySpan<byte> payload, bool compressed)
    {
        byte[]? inflated = null;
        if (compressed)
        {
            inflated = Inflate(payload);
            payload = inflated;
        }

        var reader = new Reader(payload);
        var stringCount = reader.ReadCount();
        var strings = new string[stringCount];
        for (var i = 0; i < strings.Length; i++)
        {
            strings[i] = reader.ReadUtf8(reader.ReadCount());
        }

        var count = reader.ReadCount();
        var baseTicks = reader.ReadInt64();
        var spans = new SpanRecord[count];
        for (var i = 0; i < count; i++)
        {
            spans[i] = ReadSpan(ref reader, strings, baseTicks);
        }

        if (!reader.AtEnd)
        {
            throw new InvalidDataException("The span payload has trailing bytes.");
        }

        return spans;
    }

    private static SpanRecord ReadSpan(ref Reader r, string[] strings, long baseTicks)
    {
        var flags = r.ReadByte();
        var kind = (ActivityKind)r.ReadByte();
        var status = (ActivityStatusCode)r.ReadByte();
        var traceId = (flags & FlagTextTraceId) != 0 ? r.ReadString(strings) : r.ReadHex(16);
        var textSpans = (flags & FlagTextSpanIds) != 0;
        var spanId = textSpans ? r.ReadString(strings) : r.ReadHex(8);
        string? parent = null;
        if ((flags & FlagHasParent) != 0)
        {
            parent = textSpans ? r.ReadString(strings) : r.ReadHex(8);
        }

        var name = r.ReadString(strings);
        var component = r.ReadString(strings);
        var source = r.ReadString(strings);
        var instance = r.ReadString(strings);
        var startTicks = checked(baseTicks + (long)r.ReadVarUInt());
        var start = new DateTimeOffset(startTicks, TimeSpan.Zero);
        var duration = TimeSpan.FromTicks(r.ReadVarInt());
        var statusMessage = (flags & FlagHasStatusMessage) != 0 ? r.ReadString(strings) : null;
        var attributes = ReadAttributes(ref r, strings);
        var eventCount = r.ReadCount();
        var events = eventCount == 0 ? [] : new SpanEvent[eventCount];
        for (var i = 0; i < eventCount; i++)
        {
            var eventName = r.ReadString(strings);
            var timestamp = new DateTimeOffset(checked(startTicks + r.ReadVarInt()), TimeSpan.Zero);
            events[i] = new SpanEvent(eventName, timestamp, ReadAttributes(ref r, strings));
        }

        var linkCount = r.ReadCount();
        var links = linkCount == 0 ? [] : new SpanLink[linkCount];
        for (var i = 0; i < linkCount; i++)
        {
            links[i] = new SpanLink(r.ReadString(strings), r.ReadString(strings));
        }

        return new SpanRecord(traceId, spanId, parent, name, kind, component, start, duration, status, statusMessage,
            attributes, events, links, source, instance, (flags & FlagRemoteParent) != 0);
    }

    private static KeyValuePair<string, string>[] ReadAttributes(ref Reader r, string[] strings)
    {
        var count = r.ReadCount();
        if (count == 0)
        {
            return [];
        }

        var attributes = new KeyValuePair<string, string>[count];
        for (var i = 0; i < count; i++)
        {
            attributes[i] = new KeyValuePair<string, string>(r.ReadString(strings), r.ReadString(strings));
        }

        return attributes;
    }

    private static byte[] Inflate(ReadOnlySpan<byte> payload)
    {
        using var input = new MemoryStream(payload.ToArray(), writable: false);
        using var deflate = new DeflateStream(input, CompressionMode.Decompress);
        using var output = new MemoryStream(payload.Length * 4);
        deflate.CopyTo(output);
        return output.ToArray();
    }

    private ref struct Reader(ReadOnlySpan<byte> data)
    {
        private readonly ReadOnlySpan<byte> _data = data;
        private int _position;

        public readonly bool AtEnd => _position == _data.Length;

        public byte ReadByte()
        {
            if (_position >= _data.Length)
            {
                throw Truncated();
            }

            return _data[_position++];
        }

        public long ReadInt64()
        {
            var value = BinaryPrimitives.ReadInt64LittleEndian(Take(8));
            return value;
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

        /// <summary>Reads a count and checks it against the bytes left, so a corrupt payload cannot allocate much.</summary>
        public int ReadCount()
        {
            var value = ReadVarUInt();
            if (value > (ulong)(_data.Length - _position))
            {
                throw Truncated();
            }

            return (int)value;
        }

        public string ReadUtf8(int length) => Encoding.UTF8.GetString(Take(length));

        public string ReadString(string[] strings)
        {
            var index = ReadVarUInt();
            if (index >= (ulong)strings.Length)
            {
                throw new InvalidDataException("A string reference in the span payload is out of range.");
            }

            return strings[index];
        }

        public string ReadHex(int byteLength) => Convert.ToHexStringLower(Take(byteLength));

        private ReadOnlySpan<byte> Take(int length)
        {
            if (length > _data.Length - _position)
            {
                throw Truncated();
            }

            var slice = _data.Slice(_position, length);
            _position += length;
            return slice;
        }

        private static InvalidDataException Truncated() => new("The span payload is truncated.");
    }
}
