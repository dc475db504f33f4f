using System.Diagnostics;
using FlowScope.Embedded.Capture;
using FlowScope.Embedded.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;

namespace FlowScope.Embedded.Tests;

public sealed class SpanConverterTests : IDisposable
{
    private readonly ActivitySource _source = new("Test.Converter." + Guid.NewGuid().ToString("N"));
    private readonly ActivityListener _listener;

    public SpanConverterTests()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = s => s == _source,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public void Dispose()
    {
        _listener.Dispose();
        _source.Dispose();
    }

    [Fact]
    public void Attributes_and_events_are_capped_in_count_and_length()
    {
        var converter = new SpanConverter(new FlowScopeOptions { MaxAttributesPerSpan = 3, MaxAttributeValueLength = 20, MaxEventsPerSpan = 2 }, "i1");
        var activity = _source.StartActivity("work")!;
        for (var i = 0; i < 10; i++)
        {
            activity.SetTag("key" + i, new string('x', 100));
        }

        for (var i = 0; i < 5; i++)
        {
            activity.AddEvent(new ActivityEvent("event " + i));
        }

        activity.Stop();
        var span = converter.ConvertOne(activity);

        Assert.Equal(3, span.Attributes.Count);
        Assert.All(span.Attributes, a => Assert.Equal(new string('x', 20) + "…", a.Value));
        Assert.Equal(["event 0", "event 1"], span.Events.Select(e => e.Name));
        Assert.Equal("i1", span.Instance);
    }

    [Fact]
    public void Identity_timing_status_and_values_are_copied()
    {
        var converter = new SpanConverter(new FlowScopeOptions(), "i1");
        var parent = _source.StartActivity("parent")!;
        var child = _source.StartActivity("child", ActivityKind.Client)!;
        child.SetTag("count", 42);
        child.SetTag("ratio", 0.5);
        child.SetTag("ok", true);
        child.SetTag("ids", new[] { 1, 2 });
        child.SetStatus(ActivityStatusCode.Error, "boom");
        child.Stop();
        parent.Stop();

        var span = converter.ConvertOne(child);

        Assert.Equal(parent.TraceId.ToHexString(), span.TraceId);
        Assert.Equal(child.SpanId.ToHexString(), span.SpanId);
        Assert.Equal(parent.SpanId.ToHexString(), span.ParentSpanId);
        Assert.Equal("child", span.Name);
        Assert.Equal(ActivityStatusCode.Error, span.Status);
        Assert.Equal("boom", span.StatusMessage);
        Assert.Equal(child.Duration, span.Duration);
        Assert.Equal("42", span.GetAttribute("count"));
        Assert.Equal("0.5", span.GetAttribute("ratio"));
        Assert.Equal("true", span.GetAttribute("ok"));
        Assert.Equal("[1, 2]", span.GetAttribute("ids"));
        Assert.Null(converter.ConvertOne(parent).ParentSpanId);
    }

    [Fact]
    public void Integer_tags_read_as_their_own_number()
    {
        var converter = new SpanConverter(new FlowScopeOptions(), "i1");
        SpanRecord Convert(object port, object status)
        {
            var activity = _source.StartActivity("call", ActivityKind.Client)!;
            activity.SetTag("server.port", port);
            activity.SetTag("http.response.status_code", status);
            activity.Stop();
            return converter.ConvertOne(activity);
        }

        var first = Convert(5000, 404);
        var second = Convert(5000, 404);
        var third = Convert(5001L, (short)-7);
        var fourth = Convert((ushort)5000, 404u);

        Assert.Equal(("5000", "404"), (first.GetAttribute("server.port"), first.GetAttribute("http.response.status_code")));
        Assert.Equal(("5000", "404"), (second.GetAttribute("server.port"), second.GetAttribute("http.response.status_code")));
        Assert.Equal(("5001", "-7"), (third.GetAttribute("server.port"), third.GetAttribute("http.response.status_code")));
        Assert.Equal(("5000", "404"), (fourth.GetAttribute("server.port"), fourth.GetAttribute("http.response.status_code")));
    }

    [Fact]
    public void A_record_without_status_message_events_or_links_reads_as_empty_and_one_with_them_keeps_them()
    {
        var converter = new SpanConverter(new FlowScopeOptions(), "i1");
        var plain = _source.StartActivity("plain")!;
        plain.Stop();
        var linked = _source.StartActivity(ActivityKind.Consumer, default, tags: null, links: [new ActivityLink(plain.Context)], name: "linked")!;
        linked.AddEvent(new ActivityEvent("retry"));
        linked.SetStatus(ActivityStatusCode.Error, "gave up");
        linked.Stop();

        var p = converter.ConvertOne(plain);
        var l = converter.ConvertOne(linked);

        Assert.Null(p.StatusMessage);
        Assert.Empty(p.Events);
        Assert.Empty(p.Links);
        Assert.Equal(new DateTimeOffset(plain.StartTimeUtc, TimeSpan.Zero), p.StartTime);
        Assert.Equal(p.StartTime + plain.Duration, p.EndTime);
        Assert.Equal(ActivityKind.Internal, p.Kind);

        Assert.Equal("gave up", l.StatusMessage);
        Assert.Equal(ActivityStatusCode.Error, l.Status);
        Assert.Equal(ActivityKind.Consumer, l.Kind);
        Assert.Equal(["retry"], l.Events.Select(e => e.Name));
        var link = Assert.Single(l.Links);
        Assert.Equal((plain.TraceId.ToHexString(), plain.SpanId.ToHexString()), (link.TraceId, link.SpanId));
    }

    [Theory]
    [InlineData(ActivityKind.Producer, null, null, SpanComponents.Queue)]
    [InlineData(ActivityKind.Consumer, null, null, SpanComponents.Queue)]
    [InlineData(ActivityKind.Client, "db.system", "postgresql", SpanComponents.Database)]
    [InlineData(ActivityKind.Client, null, null, SpanComponents.HttpClient)]
    [InlineData(ActivityKind.Internal, null, null, SpanComponents.Custom)]
    [InlineData(ActivityKind.Internal, "flowscope.component", "worker", SpanComponents.Worker)]
    public void Component_comes_from_FlowScope_s_attribute_or_is_inferred_from_the_kind(ActivityKind kind, string? key, string? value, string expected)
    {
        var converter = new SpanConverter(new FlowScopeOptions(), "i1");
        var activity = _source.StartActivity("work", kind)!;
        if (key is not null)
        {
            activity.SetTag(key, value);
        }

        activity.Stop();
        var span = converter.ConvertOne(activity);

        Assert.Equal(expected, span.Component);
        Assert.Null(span.GetAttribute(SpanConverter.ComponentAttribute));
    }

    [Fact]
    public void A_request_is_named_by_method_and_route_and_carries_its_outcome()
    {
        var converter = new SpanConverter(new FlowScopeOptions(), "i1");
        var context = new DefaultHttpContext();
        context.Request.Method = "GET";
        context.Request.Path = "/orders/42";
        context.SetEndpoint(new RouteEndpoint(_ => Task.CompletedTask, RoutePatternFactory.Parse("/orders/{id}"), 0, null, null));
        var activity = _source.StartActivity("Microsoft.AspNetCore.Hosting.HttpRequestIn", ActivityKind.Server)!;
        context.Features.Set<IHttpActivityFeature>(new ActivityFeature(activity));
        var info = HttpRequestInfo.For(context, new RequestCaptureSettings("/_flowscope", 10))!;
        info.Exception = new InvalidOperationException("no such order");
        context.Response.StatusCode = 500;
        activity.Stop();
        info.Complete();

        var span = converter.ConvertOne(activity);

        Assert.Equal("GET /orders/{id}", span.Name);
        Assert.Equal("/orders/{id}", span.GetAttribute("http.route"));
        Assert.Equal("/orders/42", span.GetAttribute("url.path"));
        Assert.Equal("500", span.GetAttribute("http.response.status_code"));
        Assert.Equal(ActivityStatusCode.Error, span.Status);
        Assert.Equal("no such order", span.StatusMessage);
        var exception = Assert.Single(span.Events);
        Assert.Same(info, context.Features.Get<HttpRequestInfo>());
        Assert.Equal("exception", exception.Name);
        Assert.Contains(exception.Attributes, a => a.Key == "exception.type" && a.Value == typeof(InvalidOperationException).FullName);
        Assert.Contains(exception.Attributes, a => a.Key == "exception.stacktrace");
    }

    [Fact]
    public void Requests_carry_their_own_path_and_status()
    {
        var converter = new SpanConverter(new FlowScopeOptions(), "i1");
        SpanRecord Request(string path, int status)
        {
            var context = new DefaultHttpContext();
            context.Request.Method = "GET";
            context.Request.Path = path;
            context.SetEndpoint(new RouteEndpoint(_ => Task.CompletedTask, RoutePatternFactory.Parse("/orders/{id}"), 0, null, null));
            var activity = _source.StartActivity("Microsoft.AspNetCore.Hosting.HttpRequestIn", ActivityKind.Server)!;
            context.Features.Set<IHttpActivityFeature>(new ActivityFeature(activity));
            var info = HttpRequestInfo.For(context, new RequestCaptureSettings("/_flowscope", 10))!;
            context.Response.StatusCode = status;
            activity.Stop();
            info.Complete();
            return converter.ConvertOne(activity);
        }

        var first = Request("/orders/42", 200);
        var same = Request("/orders/42", 200);
        var otherStatus = Request("/orders/42", 404);
        var otherPath = Request("/orders/43", 404);

        Assert.Equal(first.Attributes, same.Attributes);
        Assert.NotEqual(first.TraceId, same.TraceId);
        Assert.Equal("404", otherStatus.GetAttribute("http.response.status_code"));
        Assert.Equal("200", first.GetAttribute("http.response.status_code"));
        Assert.Equal("/orders/43", otherPath.GetAttribute("url.path"));
        Assert.Equal("/orders/42", otherStatus.GetAttribute("url.path"));
        Assert.Equal(first.Attributes.Select(a => a.Key), otherPath.Attributes.Select(a => a.Key));
    }

    private sealed class ActivityFeature(Activity activity) : IHttpActivityFeature
    {
        public Activity Activity { get; set; } = activity;
    }
}
