using System.Diagnostics;
using FlowScope.Embedded.Capture;
using FlowScope.Embedded.Metrics;
using FlowScope.Embedded.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;

namespace FlowScope.Embedded.Tests;

/// <summary>
/// The in-memory store keeps a request's pipeline stages compactly (<see cref="RequestStages"/>) and expands them
/// when read. Everything seen from outside must be what storing one record per stage gave.
/// </summary>
public sealed class CompactStagesTests : IDisposable
{
    private static readonly StageDefinition s_outer = new("ExceptionHandlerMiddleware", SpanComponents.Middleware, "Microsoft.AspNetCore.Diagnostics.ExceptionHandlerMiddlewareImpl");
    private static readonly StageDefinition s_routing = new("EndpointRoutingMiddleware", SpanComponents.Middleware, "Microsoft.AspNetCore.Routing.EndpointRoutingMiddleware");
    private static readonly StageDefinition s_endpoint = new("EndpointMiddleware", SpanComponents.Endpoint, "Microsoft.AspNetCore.Routing.EndpointMiddleware");
    private static readonly StageDefinition s_controller = new("controller", SpanComponents.Controller, null);
    private static readonly StageDefinition s_binding = new("model binding", SpanComponents.Controller, null);
    private static readonly StageDefinition s_action = new("action method", SpanComponents.Controller, null);

    private readonly ActivitySource _source = new(FlowScopeSources.AspNetCore);
    private readonly ActivityListener _listener;

    public CompactStagesTests()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = s => ReferenceEquals(s, _source),
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
    public void A_stage_never_starts_before_its_request_even_when_the_request_clock_reads_later()
    {
        // The request's start is the activity's wall-clock reading; stage times come from the stopwatch through a
        // shared anchor, which can read a little early. Simulate a request clock that is ahead by 5 ms.
        Activity.Current = null;
        var activity = _source.StartActivity(FlowScopeSources.HostingOperationName, ActivityKind.Server)!;
        activity.SetStartTime(DateTime.UtcNow.AddMilliseconds(5));
        var context = new DefaultHttpContext();
        context.Request.Path = "/orders/42";
        context.Features.Set<IHttpActivityFeature>(new ActivityFeature(activity));
        var info = HttpRequestInfo.For(context, new RequestCaptureSettings("/_flowscope", 10))!;

        var first = info.BeginStage(s_outer);
        info.EndStage(first, null);
        activity.Stop();
        var records = new List<SpanRecord>();
        new SpanConverter(new FlowScopeOptions(), "i1").Convert(activity, records);

        Assert.Equal(activity.StartTimeUtc, info.BaseUtc);
        var request = records[0];
        var stage = Assert.Single(records, r => r.Name == s_outer.Name);
        Assert.True(stage.StartTime >= request.StartTime, $"the stage starts {(request.StartTime - stage.StartTime).TotalMilliseconds} ms before its request");
    }

    [Fact]
    public void Compact_stages_expand_to_the_records_the_converter_adds_for_them()
    {
        var converter = new SpanConverter(new FlowScopeOptions(), "i1");
        var request = NewRequest(failing: true);

        var expanded = new List<SpanRecord>();
        converter.Convert(request, expanded);
        var compact = new List<SpanRecord>();
        converter.Convert(request, compact, compactStages: true);

        Assert.Equal(7, expanded.Count);
        Assert.Null(expanded[0].Stages);
        var record = Assert.Single(compact);
        var stages = Assert.IsType<RequestStages>(record.Stages);
        Assert.Equal(6, stages.Count);
        Assert.Equal(2, stages.FailedCount);
        AssertSame(expanded[0], record.WithoutStages());
        Assert.Null(record.WithoutStages().Stages);
        var fromCompact = stages.Expand();
        Assert.Equal(6, fromCompact.Count);
        for (var i = 0; i < 6; i++)
        {
            AssertSame(expanded[i + 1], fromCompact[i]);
        }

        // The self time is the stage's duration less its direct children's.
        var routing = fromCompact.Single(s => s.Name == "EndpointRoutingMiddleware");
        Assert.Equal("3", routing.GetAttribute(SpanConverter.SelfTimeAttribute));
        var selfTimes = new double[stages.Count];
        stages.SelfTimesMs(selfTimes);
        var ids = new ulong[stages.Count];
        stages.SpanIdValues(ids);
        var starts = new long[stages.Count];
        var durations = new long[stages.Count];
        var selfTimes2 = new double[stages.Count];
        stages.Timings(starts, durations, selfTimes2);
        for (var i = 0; i < stages.Count; i++)
        {
            Assert.Equal(stages.SelfTimeMs(i), selfTimes[i]);
            Assert.Equal(selfTimes[i], selfTimes2[i]);
            Assert.Equal(fromCompact[i].StartTime.UtcTicks, starts[i]);
            Assert.Equal(fromCompact[i].Duration.Ticks, durations[i]);
            Assert.Equal(fromCompact[i].EndTime, stages.EndOf(i));
            Assert.Equal(fromCompact[i].SpanId, ids[i].ToString("x16", System.Globalization.CultureInfo.InvariantCulture));
        }

        Assert.Equal(stages.MinStart, expanded.Skip(1).Min(s => s.StartTime));
        Assert.Equal(stages.MaxEnd, expanded.Skip(1).Max(s => s.EndTime));
    }

    [Theory]
    [InlineData(1_000)]
    [InlineData(4)] // the cap falls inside the request's stages: stored record by record
    public async Task A_store_fed_compact_stages_answers_as_one_fed_a_record_per_stage(int maxSpansPerTrace)
    {
        var converter = new SpanConverter(new FlowScopeOptions(), "i1");
        var expandedStore = new InMemoryTraceStore(10, maxSpansPerTrace);
        var compactStore = new InMemoryTraceStore(10, maxSpansPerTrace);
        var traceIds = new List<string>();
        foreach (var failing in new[] { false, true })
        {
            var request = NewRequest(failing);
            traceIds.Add(request.TraceId.ToHexString());
            var expanded = new List<SpanRecord>();
            converter.Convert(request, expanded);
            var compact = new List<SpanRecord>();
            converter.Convert(request, compact, compactStages: true);
            await expandedStore.AddAsync(expanded);
            await compactStore.AddAsync(compact);
        }

        foreach (var traceId in traceIds)
        {
            var a = (await expandedStore.GetTraceAsync(traceId))!;
            var b = (await compactStore.GetTraceAsync(traceId))!;
            AssertSameSummary(a.Summary, b.Summary);
            Assert.Equal(a.Spans.Count, b.Spans.Count);
            Assert.All(b.Spans, s => Assert.Null(s.Stages));
            var byId = b.Spans.ToDictionary(s => s.SpanId);
            foreach (var span in a.Spans)
            {
                AssertSame(span, byId[span.SpanId]);
            }
        }

        var statsA = expandedStore.GetStats();
        var statsB = compactStore.GetStats();
        Assert.Equal(statsA.StoredSpans, statsB.StoredSpans);
        Assert.Equal(statsA.RejectedSpans, statsB.RejectedSpans);

        TraceQuery[] queries =
        [
            new(),
            new() { Component = "controller" },
            new() { Component = "EndpointRoutingMiddleware" },
            new() { AttributeKey = "mvc.controller", AttributeValue = "orders" },
            new() { AttributeKey = SpanConverter.SelfTimeAttribute },
            new() { Text = "no such order" },
            new() { Text = "action method" },
            new() { Text = "ExceptionHandlerMiddlewareImpl" },
            new() { Status = TraceStatusFilter.Error },
            new() { Sort = TraceSort.Duration },
        ];
        foreach (var query in queries)
        {
            var a = await expandedStore.QueryAsync(query);
            var b = await compactStore.QueryAsync(query);
            Assert.Equal(a.Traces.Select(t => t.TraceId), b.Traces.Select(t => t.TraceId));
            for (var i = 0; i < a.Traces.Count; i++)
            {
                AssertSameSummary(a.Traces[i], b.Traces[i]);
            }
        }
    }

    [Fact]
    public void The_component_graph_sees_compact_stages_as_the_records_they_expand_to()
    {
        var converter = new SpanConverter(new FlowScopeOptions(), "i1");
        var fromRecords = new ComponentGraph();
        var fromCompact = new ComponentGraph();
        foreach (var failing in new[] { false, true, false })
        {
            var request = NewRequest(failing);
            var expanded = new List<SpanRecord>();
            converter.Convert(request, expanded);
            var compact = new List<SpanRecord>();
            converter.Convert(request, compact, compactStages: true);

            // Stages end before the request, as their records arrived in the old order: request first, then stages.
            fromRecords.Observe(expanded);
            fromCompact.Observe(compact);
        }

        var now = DateTimeOffset.UtcNow;
        var a = fromRecords.Snapshot(now);
        var b = fromCompact.Snapshot(now);
        Assert.Equal(a.Nodes, b.Nodes);
        Assert.Equal(a.Edges, b.Edges);
        Assert.Equal(a.Overflow, b.Overflow);
        Assert.Contains(b.Edges, e => e.Source == "middleware:EndpointRoutingMiddleware" && e.Target == "endpoint:/orders/{id}");
    }

    /// <summary>
    /// A request through an exception handler, routing, the endpoint and an MVC action with model binding; with
    /// <paramref name="failing"/> the action throws (the innermost stage records the exception, outer ones fail).
    /// </summary>
    private Activity NewRequest(bool failing)
    {
        var previous = Activity.Current;
        Activity.Current = null;
        var activity = _source.StartActivity(FlowScopeSources.HostingOperationName, ActivityKind.Server)!;
        var context = new DefaultHttpContext();
        context.Request.Method = "GET";
        context.Request.Path = "/orders/42";
        context.SetEndpoint(new RouteEndpoint(_ => Task.CompletedTask, RoutePatternFactory.Parse("/orders/{id}"), 0, null, null));
        context.Features.Set<IHttpActivityFeature>(new ActivityFeature(activity));
        var info = HttpRequestInfo.For(context, new RequestCaptureSettings("/_flowscope", 10))!;

        // Stopwatch timestamps chosen so that durations and self times are exact.
        var t0 = info.BaseTimestamp;
        long Ms(double ms) => t0 + (long)(ms * Stopwatch.Frequency / 1000);
        var outer = info.BeginStage(s_outer);
        var routing = info.BeginStage(s_routing);
        var endpoint = info.BeginStage(s_endpoint.Named("/orders/{id}"));
        var controller = info.BeginStage(s_controller.Named("OrdersController.Get"));
        info.AddStageAttributes(controller, [new("mvc.controller", "Orders"), new("mvc.action", "Get")]);
        info.AddCompletedStage(s_binding, Ms(4), Ms(5));
        var action = info.BeginStage(s_action.Named("Get()"));
        info.AddEvent(new SpanEvent("Loading order 42", DateTimeOffset.UtcNow, [new("log.level", "Information")]));
        var exception = failing ? new InvalidOperationException("no such order") : null;
        info.EndStage(action, exception);
        info.EndStage(controller, exception);
        info.EndStage(endpoint, null);
        info.EndStage(routing, null);
        info.EndStage(outer, null);

        SetTimes(info, outer, Ms(0), Ms(20));
        SetTimes(info, routing, Ms(1), Ms(19));
        SetTimes(info, endpoint, Ms(3), Ms(18));
        SetTimes(info, controller, Ms(3.5), Ms(17));
        SetTimes(info, action, Ms(5), Ms(16));

        context.Response.StatusCode = failing ? 500 : 200;
        activity.Stop();
        info.Complete();
        Activity.Current = previous;
        return activity;
    }

    private static void SetTimes(HttpRequestInfo info, int index, long start, long end)
    {
        ref var stage = ref StagesOf(info)[index];
        stage.Start = start;
        stage.End = end;
    }

    [System.Runtime.CompilerServices.UnsafeAccessor(System.Runtime.CompilerServices.UnsafeAccessorKind.Field, Name = "_stages")]
    private static extern ref HttpRequestInfo.Stage[] StagesOf(HttpRequestInfo info);

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

    private static void AssertSameSummary(TraceSummary expected, TraceSummary actual)
    {
        Assert.Equal(expected.TraceId, actual.TraceId);
        Assert.Equal(expected.Name, actual.Name);
        Assert.Equal(expected.Route, actual.Route);
        Assert.Equal(expected.Method, actual.Method);
        Assert.Equal(expected.StatusCode, actual.StatusCode);
        Assert.Equal(expected.StartTime, actual.StartTime);
        Assert.Equal(expected.Duration, actual.Duration);
        Assert.Equal(expected.SpanCount, actual.SpanCount);
        Assert.Equal(expected.ErrorCount, actual.ErrorCount);
        Assert.Equal(expected.RejectedSpanCount, actual.RejectedSpanCount);
        Assert.Equal(expected.Components, actual.Components);
        Assert.Equal(expected.Instance, actual.Instance);
    }

    private sealed class ActivityFeature(Activity activity) : IHttpActivityFeature
    {
        public Activity Activity { get; set; } = activity;
    }
}
