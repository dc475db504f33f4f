using System.Buffers;
using System.Diagnostics;
using FlowScope.Embedded.Capture;
using FlowScope.Embedded.Storage.Encoding;

namespace FlowScope.Embedded.Storage;

/// <summary>
/// Finished spans in FlowScope's encoded form: what the pump hands to a store, what the in-memory store keeps and
/// what a Redis entry carries. Each entry is one span's payload; a request's payload also carries its pipeline stages,
/// so <see cref="SpanCount"/> can exceed <see cref="Count"/>. <see cref="WriteTo(IBufferWriter{byte})"/> and
/// <see cref="Read"/> move a batch between processes (with the stage kinds its payloads refer to); the layout is
/// described in docs/architecture.md.
/// </summary>
/// <remarks>
/// A batch handed to <see cref="ITraceStore.AddAsync"/> is valid only until that call returns: the pump reuses it.
/// A store that keeps spans copies their payloads (or writes the batch out) before returning.
/// </remarks>
public sealed class SpanBatch
{
    /// <summary>The version of the serialized form written by <see cref="WriteTo(IBufferWriter{byte})"/>.</summary>
    public const byte FormatVersion = 2;

    private readonly PayloadWriter _writer;
    private int[] _starts = new int[64];
    private int[] _lengths = new int[64];
    private int _count;
    private int _spanCount;

    internal SpanBatch(PayloadWriter? writer = null)
    {
        _writer = writer ?? new PayloadWriter();
    }

    /// <summary>Gets the number of payloads.</summary>
    public int Count => _count;

    /// <summary>Gets the number of spans the payloads stand for (pipeline stages included).</summary>
    public int SpanCount => _spanCount;

    /// <summary>Gets the encoded payload at <paramref name="index"/>.</summary>
    public ReadOnlySpan<byte> GetPayload(int index)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)_count, nameof(index));
        return _writer.Buffer.AsSpan(_starts[index], _lengths[index]);
    }

    /// <summary>Gets the trace id of the payload at <paramref name="index"/> (to partition a batch by trace).</summary>
    public ActivityTraceId GetTraceId(int index) =>
        ActivityTraceId.CreateFromBytes(GetPayload(index).Slice(PayloadLayout.TraceIdOffset, 16));

    /// <summary>Encodes span records (for example ones a test or a custom source made).</summary>
    public static SpanBatch Encode(IEnumerable<SpanRecord> spans)
    {
        ArgumentNullException.ThrowIfNull(spans);
        var batch = new SpanBatch();
        foreach (var span in spans)
        {
            var start = batch._writer.Begin();
            SpanRecordEncoder.Write(span, batch._writer);
            batch.Commit(start, batch._writer.End(), 1);
        }

        return batch;
    }

    /// <summary>Decodes every payload: each span, then the stages of each request, as records.</summary>
    /// <exception cref="InvalidDataException">A payload is malformed.</exception>
    public IReadOnlyList<SpanRecord> Decode() => SpanDecoder.Decode(this);

    /// <summary>Writes the whole batch in its serialized form (see <see cref="Read"/>). Returns the bytes written.</summary>
    public int WriteTo(IBufferWriter<byte> output)
    {
        var all = _count <= 256 ? stackalloc int[_count] : new int[_count];
        for (var i = 0; i < all.Length; i++)
        {
            all[i] = i;
        }

        return WriteTo(output, all);
    }

    /// <summary>Writes the payloads at <paramref name="indexes"/> in serialized form. Returns the bytes written.</summary>
    public int WriteTo(IBufferWriter<byte> output, ReadOnlySpan<int> indexes)
    {
        ArgumentNullException.ThrowIfNull(output);
        return BatchSerializer.Write(this, output, indexes);
    }

    /// <summary>
    /// Reads a batch written by <see cref="WriteTo(IBufferWriter{byte})"/>, in this process or another: stages recorded
    /// elsewhere are mapped onto stage kinds of this process.
    /// </summary>
    /// <exception cref="InvalidDataException">The bytes are not a serialized batch of a version this library reads.</exception>
    public static SpanBatch Read(ReadOnlySpan<byte> serialized) => BatchSerializer.Read(serialized);

    internal PayloadWriter Writer => _writer;

    /// <summary>Records a payload the writer finished at <paramref name="start"/>.</summary>
    internal void Commit(int start, int length, int spanCount)
    {
        if (_count == _starts.Length)
        {
            Array.Resize(ref _starts, _count * 2);
            Array.Resize(ref _lengths, _count * 2);
        }

        _starts[_count] = start;
        _lengths[_count] = length;
        _count++;
        _spanCount += spanCount;
    }

    /// <summary>Empties the batch for reuse.</summary>
    internal void Clear()
    {
        _writer.Clear();
        _count = 0;
        _spanCount = 0;
    }
}
