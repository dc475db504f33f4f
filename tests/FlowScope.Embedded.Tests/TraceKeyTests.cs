using System.Diagnostics;
using FlowScope.Embedded.Storage;

namespace FlowScope.Embedded.Tests;

/// <summary>
/// The in-memory store keys traces by <see cref="TraceKey"/> (W3C ids as numbers), and records made from activities
/// keep their ids as numbers: ids must read back as the same text and sort as the text sorts.
/// </summary>
public sealed class TraceKeyTests
{
    [Fact]
    public void Keys_format_back_to_the_id_and_equal_the_key_of_its_text()
    {
        for (var i = 0; i < 100; i++)
        {
            var id = ActivityTraceId.CreateRandom();
            var key = TraceKey.Of(id);
            Assert.Equal(id.ToHexString(), key.ToString());
            Assert.Equal(key, TraceKey.Of(id.ToHexString()));
            Assert.Equal(key.GetHashCode(), TraceKey.Of(id.ToHexString()).GetHashCode());
        }

        Assert.Equal("t1", TraceKey.Of("t1").ToString());
        Assert.NotEqual(TraceKey.Of("0123456789ABCDEF0123456789ABCDEF"), TraceKey.Of("0123456789abcdef0123456789abcdef"));
        Assert.Equal("0123456789ABCDEF0123456789ABCDEF", TraceKey.Of("0123456789ABCDEF0123456789ABCDEF").ToString());
    }

    [Fact]
    public void Keys_order_as_their_texts_order()
    {
        var texts = new List<string> { "t1", "zz", "0123456789ABCDEF0123456789ABCDEF", "00000000000000000000000000000000", "ffffffffffffffffffffffffffffffff" };
        for (var i = 0; i < 50; i++)
        {
            texts.Add(ActivityTraceId.CreateRandom().ToHexString());
        }

        foreach (var a in texts)
        {
            foreach (var b in texts)
            {
                Assert.Equal(Math.Sign(string.CompareOrdinal(a, b)), Math.Sign(TraceKey.CompareOrdinal(TraceKey.Of(a), TraceKey.Of(b))));
            }
        }
    }

    [Fact]
    public void A_record_made_from_an_activity_reads_its_ids_and_its_parent_id_as_text()
    {
        var traceId = ActivityTraceId.CreateRandom();
        var spanId = ActivitySpanId.CreateRandom();
        var parentId = ActivitySpanId.CreateRandom();
        var record = new SpanRecord(traceId, spanId, SpanRecord.NumberOf(parentId), "GET /", ActivityKind.Server, SpanComponents.Server, DateTimeOffset.UnixEpoch, TimeSpan.FromMilliseconds(1), ActivityStatusCode.Unset, null, [], [], [], "src", "instance", false);
        Assert.Equal(traceId.ToHexString(), record.TraceId);
        Assert.Equal(spanId.ToHexString(), record.SpanId);
        Assert.Equal(TraceKey.Of(traceId.ToHexString()), record.TraceKey);
        Assert.Equal(Metrics.ComponentGraph.IdOf(spanId.ToHexString()), record.SpanIdNumber);
        Assert.Equal(parentId.ToHexString(), record.ParentSpanId);
        Assert.Equal(Metrics.ComponentGraph.IdOf(parentId.ToHexString()), record.ParentSpanIdNumber);
        Assert.True(record.HasParent);

        var root = new SpanRecord(traceId, spanId, 0, "GET /", ActivityKind.Server, SpanComponents.Server, DateTimeOffset.UnixEpoch, TimeSpan.FromMilliseconds(1), ActivityStatusCode.Unset, null, [], [], [], "src", "instance", false);
        Assert.Null(root.ParentSpanId);
        Assert.Null(root.ParentSpanIdNumber);
        Assert.False(root.HasParent);
    }

    [Fact]
    public void Ids_decode_to_the_numbers_their_digits_spell()
    {
        for (var i = 0; i < 200; i++)
        {
            var traceId = ActivityTraceId.CreateRandom();
            var spanId = ActivitySpanId.CreateRandom();
            var text = traceId.ToHexString();
            Assert.Equal((Convert.ToUInt64(text[..16], 16), Convert.ToUInt64(text[16..], 16)), TraceKey.Of(traceId).Numbers);
            Assert.Equal(Convert.ToUInt64(spanId.ToHexString(), 16), SpanRecord.NumberOf(spanId));
        }

        Assert.Equal(0UL, SpanRecord.NumberOf(default));
        Assert.Equal((0UL, 0UL), TraceKey.Of(default(ActivityTraceId)).Numbers);
    }
}
