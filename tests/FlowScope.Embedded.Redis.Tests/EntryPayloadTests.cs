using System.Diagnostics;
using FlowScope.Embedded.Redis.Internal;
using FlowScope.Embedded.Redis.Tests.Infrastructure;
using FlowScope.Embedded.Storage;
using StackExchange.Redis;

namespace FlowScope.Embedded.Redis.Tests;

/// <summary>A stream entry carries a serialized <see cref="SpanBatch"/>: the same encoded form the in-memory store keeps.</summary>
public class EntryPayloadTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void An_entry_reads_back_every_field_of_its_spans(bool compress)
    {
        var start = new DateTimeOffset(2026, 11, 22, 10, 30, 0, TimeSpan.Zero).AddTicks(1234567);
        var full = new SpanRecord(
            TestSpans.NewTraceId(), TestSpans.NewSpanId(), TestSpans.NewSpanId(), "POST /rooms/{id}/messages", ActivityKind.Consumer,
            SpanComponents.Queue, start, TimeSpan.FromTicks(98765), ActivityStatusCode.Error, "boom: é ✓",
            [new("messaging.system", "redis"), new("attempt", "2"), new("empty", "")],
            [new SpanEvent("exception", start.AddTicks(500), [new("exception.type", "System.InvalidOperationException")]), new SpanEvent("log", start.AddTicks(-3), [])],
            [new SpanLink(TestSpans.NewTraceId(), TestSpans.NewSpanId())],
            "My.Source", "instance-1", hasRemoteParent: true);
        var spans = TestSpans.Trace("web-1", 3).Append(full).ToArray();

        var entry = Entry(spans, compress);
        var decoded = StreamEntryFormat.Decode(entry).Batch.Decode();

        Assert.Equal(spans.Length, decoded.Count);
        for (var i = 0; i < spans.Length; i++)
        {
            Assert.Equivalent(spans[i], decoded[i], strict: true);
        }
    }

    [Fact]
    public void Compressed_entries_are_small()
    {
        var spans = TestSpans.Traces("web-1", 86, 3);
        var payload = TestSpans.EntryPayload(spans, compress: true);
        Assert.True(payload.Length / (double)spans.Length < 60, $"{payload.Length / (double)spans.Length:F1} bytes per span");
    }

    [Theory]
    [InlineData(new byte[] { })]
    [InlineData(new byte[] { 5, 1, 65 })]
    [InlineData(new byte[] { 2, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7 })]
    public void A_corrupt_payload_is_refused_with_InvalidDataException(byte[] payload) =>
        Assert.Throws<InvalidDataException>(() => StreamEntryFormat.Decode(RawEntry(payload)));

    [Fact]
    public void An_entry_of_another_format_version_is_refused()
    {
        var entry = new StreamEntry("1-0", [new(StreamEntryFormat.VersionField, "1"), new(StreamEntryFormat.BatchIdField, "b-1"), new(StreamEntryFormat.CompressionField, StreamEntryFormat.None), new(StreamEntryFormat.PayloadField, new byte[] { 1 })]);
        var error = Assert.Throws<InvalidDataException>(() => StreamEntryFormat.Decode(entry));
        Assert.Contains("version", error.Message, StringComparison.OrdinalIgnoreCase);
    }

    private static StreamEntry Entry(SpanRecord[] spans, bool compress)
    {
        var batch = new PackedBatch("run-1", spans.Length, TestSpans.EntryPayload(spans, compress), compress, 0);
        return new StreamEntry("1-0", StreamEntryFormat.Create(batch, "web-1"));
    }

    private static StreamEntry RawEntry(byte[] payload) =>
        new("1-0", StreamEntryFormat.Create(new PackedBatch("run-1", 1, payload, false, 0), "web-1"));
}
