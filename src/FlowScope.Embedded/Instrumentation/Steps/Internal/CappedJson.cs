using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace FlowScope.Embedded.Steps.Internal;

/// <summary>
/// Serializes a value with its source-generated <see cref="JsonTypeInfo{T}"/> (no reflection, trimming-safe) into at
/// most a given number of UTF-8 bytes: serialization stops as soon as the output passes the cap, so a huge object
/// costs neither unbounded memory nor unbounded time. Serializer errors (cycles, throwing members) propagate.
/// </summary>
internal static class CappedJson
{
    // The serializer's default; the writer's own default (1 000) would let a cycle run to the cap instead of failing.
    private const int DefaultMaxDepth = 64;

    public static (string Json, bool Truncated) Serialize<T>(T value, JsonTypeInfo<T> typeInfo, int maxBytes)
    {
        var output = new CappedBufferWriter(maxBytes);
        var options = typeInfo.Options;
        var writer = new Utf8JsonWriter(output, new JsonWriterOptions { Encoder = options.Encoder, MaxDepth = options.MaxDepth > 0 ? options.MaxDepth : DefaultMaxDepth });
        try
        {
            JsonSerializer.Serialize(writer, value, typeInfo);
            writer.Flush();
        }
        catch (CapReachedException)
        {
            // What was written up to the cap is the observation.
        }
        finally
        {
            writer.Reset(); // drops bytes not yet handed to the output, so disposing cannot flush past the cap
            writer.Dispose();
            output.ReturnScratch();
        }

        return (Decode(output.Written), output.IsFull);
    }

    /// <summary>Decodes UTF-8, leaving out a multi-byte sequence the cap cut in two.</summary>
    private static string Decode(ReadOnlySpan<byte> bytes)
    {
        var length = bytes.Length;
        for (var back = 1; back <= 4 && back <= length; back++)
        {
            var b = bytes[length - back];
            if ((b & 0xC0) == 0x80)
            {
                continue; // a continuation byte: look further back for its lead byte
            }

            var expected = b < 0x80 ? 1 : (b & 0xE0) == 0xC0 ? 2 : (b & 0xF0) == 0xE0 ? 3 : 4;
            if (back < expected)
            {
                length -= back;
            }

            break;
        }

        return Encoding.UTF8.GetString(bytes[..length]);
    }

    /// <summary>
    /// Keeps at most <c>cap</c> bytes. A request that does not fit under the cap is served from a pooled scratch buffer
    /// (the JSON writer asks for room a whole token at a time); on advance only what fits is kept, and passing the cap
    /// stops serialization.
    /// </summary>
    private sealed class CappedBufferWriter : IBufferWriter<byte>
    {
        private const int MinChunk = 256;
        private readonly int _cap;
        private byte[] _buffer;
        private byte[]? _scratch;
        private int _written;

        public CappedBufferWriter(int cap)
        {
            _cap = Math.Max(cap, 1);
            _buffer = new byte[Math.Min(_cap, 1_024)];
        }

        public bool IsFull { get; private set; }

        public ReadOnlySpan<byte> Written => _buffer.AsSpan(0, _written);

        public void Advance(int count)
        {
            if (IsFull)
            {
                throw new CapReachedException();
            }

            if (_scratch is { } scratch)
            {
                var kept = Math.Min(count, _cap - _written);
                Grow(_written + kept);
                scratch.AsSpan(0, kept).CopyTo(_buffer.AsSpan(_written));
                _written += kept;
                ReturnScratch();
                if (kept < count)
                {
                    IsFull = true;
                    throw new CapReachedException();
                }

                return;
            }

            _written += count;
        }

        public Memory<byte> GetMemory(int sizeHint = 0)
        {
            var size = Math.Max(sizeHint, MinChunk);
            if (_written + size <= _cap)
            {
                Grow(_written + size);
                return _buffer.AsMemory(_written);
            }

            ReturnScratch();
            _scratch = ArrayPool<byte>.Shared.Rent(size);
            return _scratch;
        }

        public Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;

        public void ReturnScratch()
        {
            if (_scratch is { } scratch)
            {
                _scratch = null;
                ArrayPool<byte>.Shared.Return(scratch);
            }
        }

        private void Grow(int needed)
        {
            if (needed > _buffer.Length)
            {
                Array.Resize(ref _buffer, Math.Min(_cap, Math.Max(needed, _buffer.Length * 2)));
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
