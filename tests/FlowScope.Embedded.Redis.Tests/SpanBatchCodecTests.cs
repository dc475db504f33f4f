using System.Diagnostics;
using FlowScope.Embedded.Redis.Internal;
using FlowScope.Embedded.Redis.Tests.Infrastructure;
using FlowScope.Embedded.Storage;

namespace FlowScope.Embedded.Redis.Tests;

public class SpanBatchCodecTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Round_trip_keeps_every_field(bool compress)
    {
        var start = new DateTimeOffset(2026, 11, 22, 10, 30, 0, TimeSpan.Zero).AddTicks(1234567);
        var full = new SpanRecord(
            TestSpans.NewTraceId(), TestSpans.NewSpanId(), TestSpans.NewSpanId(), "POST /rooms/{id}/messages", ActivityKind.Consumer,
            SpanComponents.Queue, start, TimeSpan.FromTicks(98765), ActivityStatusCode.Error, "boom: é ✓",
            [new("messaging.system", "redis"), new("attempt", "2"), new("empty", "")],
            [new SpanEvent("exception", start.AddTicks(500), [new("exception.type", "System.InvalidOperationException")]), new SpanEvent("log", start.AddTicks(-3), [])],
            [new SpanLink(TestSpans.NewTraceId(), TestSpans.NewSpanId())],
            "My.Source", "instance-1", hasRemoteParent: true);
        // Ids that are not W3C hex travel as text.
        var odd = new SpanRecord("not-a-w3c-trace-id", "SPAN-1", null, "odd", ActivityKind.Internal, SpanComponents.Custom,
            start.AddSeconds(-5), TimeSpan.Zero, ActivityStatusCode.Unset, null, [], [], [], "", "");

        var codec = new SpanBatchCodec();
        var payload = codec.Encode([odd, full], 0, 2, compress);
        var decoded = SpanBatchCodec.Decode(payload, compress);

        Assert.Equal(2, decoded.Length);
        AssertSame(odd, decoded[0]);
        AssertSame(full, decoded[1]);
    }

    [Fact]
    public void Encodes_a_slice_and_reuses_buffers_between_batches()
    {
        var codec = new SpanBatchCodec();
        var spans = TestSpans.Traces("a", 10);
        var first = SpanBatchCodec.Decode(codec.Encode(spans, 0, 5, true), true);
        var second = SpanBatchCodec.Decode(codec.Encode(spans, 5, 25, true), true);

        Assert.Equal(spans.Take(5).Select(s => s.SpanId), first.Select(s => s.SpanId));
        Assert.Equal(spans.Skip(5).Select(s => s.SpanId), second.Select(s => s.SpanId));
    }

    [Fact]
    public void Packed_and_compressed_entries_are_small()
    {
        var spans = TestSpans.Traces("web-1", 86, 3);
        var payload = new SpanBatchCodec().Encode(spans, 0, 256, compress: true);
        // Repeated names and keys are written once per entry; ids are raw bytes.
        Assert.True(payload.Length / 256.0 < 60, $"{payload.Length / 256.0:F1} bytes per span");
    }

    [Theory]
    [InlineData(new byte[] { })]
    [InlineData(new byte[] { 5, 1, 65 })]
    [InlineData(new byte[] { 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7 })]
    public void Corrupt_payloads_throw_InvalidDataException(byte[] payload) =>
        Assert.Throws<InvalidDataException>(() => SpanBatchCodec.Decode(payload, compressed: false));

    private static void AssertSame(SpanRecord expected, SpanRecord actual)
    {
        Assert.Equal(expected.TraceId, actual.TraceId);
        Assert.Equal(expected.SpanId, actual.SpanId);
        Assert.Equal(expected.ParentSpanId, actual.ParentSpanId);
        Assert.Equal(expected.HasRemoteParent, actual.HasRemoteParent);
        Assert.Equal(expected.Name, actual.Name);
        Assert.Equal(expected.Kind, actual.Kind);
        Assert.Equal(expected.Component, actual.Component);
        Assert.Equal(expected.StartTime, actual.StartTime);
        Assert.Equal(expected.Duration, actual.Duration);
        Assert.Equal(expected.Status, actual.Status);
        Assert.Equal(expected.StatusMessage, actual.StatusMessage);
        Assert.Equal(expected.Attributes, actual.Attributes);
        Assert.Equal(expected.Events.Count, actual.Events.Count);
        for (var i = 0; i < expected.Events.Count; i++)
        {
            Assert.Equal(expected.Events[i].Name, actual.Events[i].Name);
            Assert.Equal(expected.Events[i].Timestamp, actual.Events[i].Timestamp);
            Assert.Equal(expected.Events[i].Attributes, actual.Events[i].Attributes);
        }

        Assert.Equal(expected.Links, actual.Links);
        Assert.Equal(expected.Source, actual.Source);
        Assert.Equal(expected.Instance, actual.Instance);
    }
}
