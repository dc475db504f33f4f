using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace FlowScope.Embedded.Steps.Internal;

/// <summary>
/// Serializes a value with its source-generated <see cref="JsonTypeInfo{T}"/> (no reflection, trimming-safe) into at
/// most a given number of UTF-8 bytes: serialization stops as soon as the output passes the cap, so a huge object
/// costs neither unbounded memory nor unbounded time.
/// </summary>
internal static class CappedJson
{
    public static (string Json, bool Truncated) Serialize<T>(T value, JsonTypeInfo<T> typeInfo, int maxBytes)
    {
        var output = new CappedBufferWriter(maxBytes);
        try
        {
            using (var writer = new Utf8JsonWriter(output, new JsonWriterOptions { SkipValidation = true }))
            {
                JsonSerializer.Serialize(writer, value, typeInfo);
            }
        }
        catch (CapReachedException)
        {
            return (Decode(output.Written, maxBytes), true);
        }

        return output.Written.Length > maxBytes ? (Decode(output.Written, maxBytes), true) : (Encoding.UTF8.GetString(output.Written), false);
    }

    /// <summary>Decodes at most <paramref name="maxBytes"/> bytes without splitting a UTF-8 sequence.</summary>
    private static string Decode(ReadOnlySpan<byte> bytes, int maxBytes)
    {
        var length = Math.Min(bytes.Length, maxBytes);
        if (length < bytes.Length)
        {
            while (length > 0 && (bytes[length] & 0xC0) == 0x80)
            {
                length--;
            }
        }

        return Encoding.UTF8.GetString(bytes[..length]);
    }

    private sealed class CappedBufferWriter : IBufferWriter<byte>
    {
        private const int MinChunk = 256;
        private readonly int _cap;
        private readonly int _hardLimit;
        private byte[] _buffer;
        private int _written;

        public CappedBufferWriter(int cap)
        {
            _cap = cap;
            // The JSON writer asks for room in chunks (4 KB or a whole token); allow one such chunk past the cap.
            _hardLimit = checked((cap * 2) + 16_384);
            _buffer = new byte[Math.Min(cap + MinChunk, 1_024)];
        }

        public ReadOnlySpan<byte> Written => _buffer.AsSpan(0, _written);

        public void Advance(int count)
        {
            _written += count;
            if (_written > _cap)
            {
                throw new CapReachedException();
            }
        }

        public Memory<byte> GetMemory(int sizeHint = 0)
        {
            Ensure(sizeHint);
            return _buffer.AsMemory(_written);
        }

        public Span<byte> GetSpan(int sizeHint = 0)
        {
            Ensure(sizeHint);
            return _buffer.AsSpan(_written);
        }

        private void Ensure(int sizeHint)
        {
            var needed = (long)_written + Math.Max(sizeHint, MinChunk);
            if (needed > _hardLimit)
            {
                throw new CapReachedException();
            }

            if (needed > _buffer.Length)
            {
                Array.Resize(ref _buffer, (int)Math.Min(_hardLimit, Math.Max(needed, (long)_buffer.Length * 2)));
            }
        }
    }

    private sealed class CapReachedException : Exception
    {
        public CapReachedException()
            : base("The serialized observation reached its size cap.")
        {
        }

        public CapReachedException(string message)
            : base(message)
        {
        }

        public CapReachedException(string message, Exception innerException)
            : base(message, innerException)
        {
        }
    }
}
