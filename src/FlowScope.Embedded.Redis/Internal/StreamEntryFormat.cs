using System.Globalization;
using System.IO.Compression;
using FlowScope.Embedded.Storage;
using StackExchange.Redis;

namespace FlowScope.Embedded.Redis.Internal;

/// <summary>The fields of one stream entry (see docs/redis.md, "Entry format"); its payload is a serialized <see cref="SpanBatch"/>.</summary>
internal static class StreamEntryFormat
{
    public const string VersionField = "v";
    public const string BatchIdField = "b";
    public const string InstanceField = "i";
    public const string CountField = "n";
    public const string CompressionField = "c";
    public const string PayloadField = "d";

    /// <summary>Only in kept-stream entries: why the trace was kept (<c>error</c> or <c>slow</c>).</summary>
    public const string KeptBecauseField = "k";

    public const string Deflate = "deflate";
    public const string None = "none";

    private static readonly RedisValue s_version = SpanBatch.FormatVersion.ToString(CultureInfo.InvariantCulture);

    public static NameValueEntry[] Create(PackedBatch batch, string instance) =>
    [
        new(VersionField, s_version),
        new(BatchIdField, batch.BatchId),
        new(InstanceField, instance),
        new(CountField, batch.SpanCount),
        new(CompressionField, batch.Compressed ? Deflate : None),
        new(PayloadField, batch.Payload),
    ];

    /// <summary>Reads an entry; throws <see cref="InvalidDataException"/> for entries this version cannot read.</summary>
    public static DecodedEntry Decode(StreamEntry entry)
    {
        if (entry.IsNull)
        {
            throw new InvalidDataException("The stream entry is empty.");
        }

        var version = entry[VersionField];
        if (version != s_version)
        {
            throw new InvalidDataException($"Unsupported entry format version '{version}'.");
        }

        var batchId = entry[BatchIdField];
        var payload = entry[PayloadField];
        var compression = entry[CompressionField];
        if (batchId.IsNullOrEmpty || payload.IsNull)
        {
            throw new InvalidDataException("The stream entry lacks its batch id or payload.");
        }

        var compressed = compression == Deflate;
        if (!compressed && compression != None)
        {
            throw new InvalidDataException($"Unsupported compression '{compression}'.");
        }

        var bytes = (byte[])payload!;
        var batch = SpanBatch.Read(compressed ? Inflate(bytes) : bytes);
        return new DecodedEntry(entry.Id.ToString(), batchId.ToString(), entry[InstanceField].ToString(), batch);
    }

    /// <summary>Deflates a serialized batch (the entry's payload when compression is on).</summary>
    public static byte[] Compress(ReadOnlySpan<byte> serialized)
    {
        using var compressed = new MemoryStream(serialized.Length / 2);
        using (var deflate = new DeflateStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
        {
            deflate.Write(serialized);
        }

        return compressed.ToArray();
    }

    private static byte[] Inflate(byte[] payload)
    {
        using var input = new MemoryStream(payload, writable: false);
        using var deflate = new DeflateStream(input, CompressionMode.Decompress);
        using var output = new MemoryStream(payload.Length * 4);
        deflate.CopyTo(output);
        return output.ToArray();
    }
}

/// <summary>One encoded batch waiting to be written.</summary>
internal sealed class PackedBatch(string batchId, int spanCount, byte[] payload, bool compressed, long enqueuedTimestamp)
{
    public string BatchId { get; } = batchId;

    public int SpanCount { get; } = spanCount;

    public byte[] Payload { get; } = payload;

    public bool Compressed { get; } = compressed;

    /// <summary>The <see cref="TimeProvider.GetTimestamp"/> of when its oldest span reached the writer.</summary>
    public long EnqueuedTimestamp { get; } = enqueuedTimestamp;

    public int Attempts { get; set; }

    /// <summary>Whether an XADD of this batch is under way (it must not be evicted meanwhile).</summary>
    public bool InFlight { get; set; }
}

/// <summary>One stream entry read back: its spans in their encoded form.</summary>
internal sealed record DecodedEntry(string EntryId, string BatchId, string Instance, SpanBatch Batch);
