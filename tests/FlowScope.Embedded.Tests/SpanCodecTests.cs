using System.Buffers;
using System.Diagnostics;
using FlowScope.Embedded.Capture;
using FlowScope.Embedded.Storage;
using FlowScope.Embedded.Storage.Encoding;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace FlowScope.Embedded.Tests;

/// <summary>
/// The encoded form is the only form a span is kept in: every shape must read back exactly as it was written, in
/// this process and in another one, and malformed bytes must be refused with <see cref="InvalidDataException"/>.
/// </summary>
public sealed class SpanCodecTests
{
    private static readonly DateTimeOffset s_start = new DateTimeOffset(2026, 12, 6, 9, 30, 0, TimeSpan.Zero).AddTicks(1_234_567);

    public static TheoryData<string, SpanRecord> Shapes()
    {
        var trace = ActivityTraceId.CreateRandom().ToHexString();
        string Id() => ActivitySpanId.CreateRandom().ToHexString();
        var longText = new string('x', 5_000) + "…end";
        var data = new TheoryData<string, SpanRecord>
        {
            { "minimal", new SpanRecord(trace, Id(), null, "a", ActivityKind.Internal, SpanComponents.Custom, s_start, TimeSpan.Zero, ActivityStatusCode.Unset, null, [], [], [], "", "") },
            { "every field", new SpanRecord(trace, Id(), Id(), "POST /rooms/{id}/messages", ActivityKind.Consumer, SpanComponents.Queue, s_start, TimeSpan.FromTicks(98_765), ActivityStatusCode.Error, "boom",
                [new("messaging.system", "redis"), new("attempt", "2"), new("empty", ""), new("http.request.method", "GET")],
                [new SpanEvent("exception", s_start.AddTicks(500), [new("exception.type", "System.InvalidOperationException")]), new SpanEvent("before the span", s_start.AddTicks(-3), [])],
                [new SpanLink(ActivityTraceId.CreateRandom().ToHexString(), Id()), new SpanLink(trace, Id())],
                "My.Source", "instance-1", hasRemoteParent: true) },
            { "unicode", new SpanRecord(trace, Id(), null, "GET /café/✓/日本語/🚀", ActivityKind.Server, "composant-é", s_start, TimeSpan.FromDays(3), ActivityStatusCode.Ok, "ça a échoué 💥",
                [new("clé", "valeur ü"), new("emoji", "👩‍👩‍👧‍👦"), new("combining", "e\u0301")], [new SpanEvent("événement ☃", s_start, [new("k", "v€")])], [], "Source.Ω", "hôte/1") },
            { "long texts", new SpanRecord(trace, Id(), Id(), longText, ActivityKind.Client, SpanComponents.HttpClient, s_start, TimeSpan.FromMilliseconds(1.5), ActivityStatusCode.Unset, longText,
                [new(longText, longText)], [], [], longText, longText) },
            { "well-known values only", new SpanRecord(trace, Id(), Id(), "GET", ActivityKind.Server, SpanComponents.Server, s_start, TimeSpan.FromMilliseconds(2), ActivityStatusCode.Unset, null,
                [new("http.request.method", "GET"), new("http.response.status_code", "404"), new("url.scheme", "https")], [], [], "Microsoft.AspNetCore", "") },
            { "many attributes and events", new SpanRecord(trace, Id(), null, "many", ActivityKind.Producer, SpanComponents.Queue, s_start, TimeSpan.FromSeconds(1), ActivityStatusCode.Unset, null,
                Enumerable.Range(0, 200).Select(i => KeyValuePair.Create($"key.{i}", $"value {i}")).ToArray(),
                Enumerable.Range(0, 300).Select(i => new SpanEvent($"log {i}", s_start.AddTicks(i), [new("i", i.ToString(System.Globalization.CultureInfo.InvariantCulture))])).ToArray(),
                [], "s", "i") },
        };
        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Every_shape_reads_back_as_written(string shape, SpanRecord span)
    {
        var decoded = Assert.Single(SpanBatch.Encode([span]).Decode());
        AssertSame(span, decoded, shape);
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Every_shape_crosses_a_serialized_batch_unchanged(string shape, SpanRecord span)
    {
        var read = SpanBatch.Read(Serialize(SpanBatch.Encode([span, span])));
        Assert.Equal(2, read.Count);
        Assert.All(read.Decode(), decoded => AssertSame(span, decoded, shape));
    }

    [Fact]
    public void A_request_from_another_process_keeps_its_stages_under_stage_kinds_of_this_one()
    {
        using var request = new RequestFixture();
        var batch = new SpanBatch();
        new SpanConverter(new FlowScopeOptions(), "web-a").Convert(request.Activity, batch);
        var bytes = Serialize(batch);

        // Another process wrote it: a different origin, so stage kinds are matched by content.
        bytes[1] ^= 0xFF;
        var read = SpanBatch.Read(bytes);

        var original = batch.Decode();
        var copy = read.Decode();
        Assert.Equal(3, copy.Count);
        for (var i = 0; i < original.Count; i++)
        {
            AssertSame(original[i], copy[i], "stage " + i);
            Assert.Equal(original[i].SelfTime, copy[i].SelfTime);
        }
    }

    [Fact]
    public void A_span_too_large_to_keep_whole_loses_its_events_and_long_values_and_says_so()
    {
        var source = new ActivitySource("Codec.Large");
        using var listener = new ActivityListener { ShouldListenTo = s => s == source, Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData };
        ActivitySource.AddActivityListener(listener);
        var activity = source.StartActivity("huge")!;
        for (var i = 0; i < 64; i++)
        {
            activity.SetTag($"tag.{i}", new string('v', 10_000));
        }

        for (var i = 0; i < 128; i++)
        {
            activity.AddEvent(new ActivityEvent($"event {i} " + new string('e', 10_000)));
        }

        activity.Stop();
        var options = new FlowScopeOptions { MaxAttributeValueLength = 100_000 };
        var batch = new SpanBatch();
        new SpanConverter(options, "i").Convert(activity, batch);

        Assert.True(batch.GetPayload(0).Length <= PayloadLayout.MaxPayloadBytes, $"{batch.GetPayload(0).Length} bytes");
        Assert.NotEqual(0, new SpanPayload(batch.GetPayload(0)).Flags & PayloadLayout.Truncated);
        var span = Assert.Single(batch.Decode());
        Assert.Empty(span.Events);
        Assert.Equal(64, span.Attributes.Count);
        Assert.All(span.Attributes, a => Assert.True(a.Value.Length <= 257, $"{a.Key} kept {a.Value.Length} characters"));
    }

    public static TheoryData<byte[]> Corrupt() => new()
    {
        Array.Empty<byte>(),
        new byte[] { 1, 2, 3 },
        new byte[] { 9 }.Concat(new byte[20]).ToArray(),
        new byte[] { SpanBatch.FormatVersion }.Concat(new byte[16]).Concat(new byte[] { 0, 1, 200 }).ToArray(),
        new byte[] { SpanBatch.FormatVersion }.Concat(new byte[16]).Concat(new byte[] { 0, 1, 70 }).Concat(new byte[70]).ToArray(),
    };

    [Theory]
    [MemberData(nameof(Corrupt))]
    public void Malformed_batches_are_refused(byte[] bytes) => Assert.Throws<InvalidDataException>(() => SpanBatch.Read(bytes));

    [Fact]
    public void Every_truncation_of_a_valid_batch_is_refused()
    {
        var bytes = Serialize(SpanBatch.Encode([.. Shapes().Select(row => (SpanRecord)row[1])]));
        for (var length = 0; length < bytes.Length; length += Math.Max(1, bytes.Length / 200))
        {
            Assert.Throws<InvalidDataException>(() => SpanBatch.Read(bytes.AsSpan(0, length)));
        }
    }

    [Fact]
    public void Ids_that_are_not_W3C_ids_are_refused_with_a_message()
    {
        var error = Assert.Throws<ArgumentException>(() => new SpanRecord("order-42", "0123456789abcdef", null, "n", ActivityKind.Internal, "custom", s_start, TimeSpan.Zero, ActivityStatusCode.Unset, null, [], [], [], "", ""));
        Assert.Contains("32 hexadecimal digits", error.Message, StringComparison.Ordinal);
    }

    private static byte[] Serialize(SpanBatch batch)
    {
        var output = new ArrayBufferWriter<byte>();
        batch.WriteTo(output);
        return output.WrittenSpan.ToArray();
    }

    private static void AssertSame(SpanRecord expected, SpanRecord actual, string shape)
    {
        Assert.True(expected.TraceId == actual.TraceId, shape);
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

    /// <summary>A finished request with two nested stages, the inner one failed.</summary>
    private sealed class RequestFixture : IDisposable
    {
        private static readonly StageDefinition s_outer = new("CodecOuterMiddleware", SpanComponents.Middleware, "Codec.OuterMiddleware", [new("tier", "outer")]);
        private static readonly StageDefinition s_inner = new("CodecEndpoint", SpanComponents.Endpoint, null);
        private readonly ActivitySource _source = new(FlowScopeSources.AspNetCore);
        private readonly ActivityListener _listener;

        public RequestFixture()
        {
            _listener = new ActivityListener { ShouldListenTo = s => ReferenceEquals(s, _source), Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData };
            ActivitySource.AddActivityListener(_listener);
            var previous = Activity.Current;
            Activity.Current = null;
            Activity = _source.StartActivity(FlowScopeSources.HostingOperationName, ActivityKind.Server)!;
            var context = new DefaultHttpContext();
            context.Request.Method = "GET";
            context.Request.Path = "/codec";
            context.Features.Set<IHttpActivityFeature>(new Feature(Activity));
            var info = HttpRequestInfo.For(context, new RequestCaptureSettings("/_flowscope", 10))!;
            var outer = info.BeginStage(s_outer);
            var inner = info.BeginStage(s_inner);
            info.EndStage(inner, new InvalidOperationException("inner failed"));
            info.EndStage(outer, null);
            context.Response.StatusCode = 500;
            Activity.Stop();
            info.Complete();
            Activity.Current = previous;
        }

        public Activity Activity { get; }

        public void Dispose()
        {
            _listener.Dispose();
            _source.Dispose();
        }

        private sealed class Feature(Activity activity) : IHttpActivityFeature
        {
            public Activity Activity { get; set; } = activity;
        }
    }
}
