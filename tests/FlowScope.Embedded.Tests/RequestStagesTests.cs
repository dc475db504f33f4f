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
/// A request's pipeline stages ride in its payload and are read back as spans of their own: names, kinds, ids,
/// parents, times, self times, failures, logs and exceptions where they happened.
/// </summary>
public sealed class RequestStagesTests : IDisposable
{
    private static readonly StageDefinition s_outer = new("ExceptionHandlerMiddleware", SpanComponents.Middleware, "Microsoft.AspNetCore.Diagnostics.ExceptionHandlerMiddlewareImpl");
    private static readonly StageDefinition s_routing = new("EndpointRoutingMiddleware", SpanComponents.Middleware, "Microsoft.AspNetCore.Routing.EndpointRoutingMiddleware");
    private static readonly StageDefinition s_endpoint = new("EndpointMiddleware", SpanComponents.Endpoint, "Microsoft.AspNetCore.Routing.EndpointMiddleware");
    private static readonly StageDefinition s_controller = new("controller", SpanComponents.Controller, null);
    private static readonly StageDefinition s_binding = new("model binding", SpanComponents.Controller, null);
    private static readonly StageDefinition s_action = new("action method", SpanComponents.Controller, null);

    private readonly ActivitySource _source = new(FlowScopeSources.AspNetCore);
    private readonly ActivityListener _listener;

    public RequestStagesTests()
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
        var records = new SpanConverter(new FlowScopeOptions(), "i1").ConvertToRecords(activity);

        Assert.Equal(activity.StartTimeUtc, info.BaseUtc);
        var request = records[0];
        var stage = Assert.Single(records, r => r.Name == s_outer.Name);
        Assert.True(stage.StartTime >= request.StartTime, $"the stage starts {(request.StartTime - stage.StartTime).TotalMilliseconds} ms before its request");
    }

    [Fact]
    public void Stages_are_read_back_as_spans_with_derived_ids_parents_self_times_and_failures()
    {
        var converter = new SpanConverter(new FlowScopeOptions(), "i1");
        var request = NewRequest(failing: true);

        var records = converter.ConvertToRecords(request);

        Assert.Equal(7, records.Count);
        var root = records[0];
        Assert.Equal("GET /orders/{id}", root.Name);
        Assert.Equal(ActivityStatusCode.Error, root.Status);
        Assert.Null(root.SelfTime);
        var stages = records.Skip(1).ToArray();
        Assert.Equal(["ExceptionHandlerMiddleware", "EndpointRoutingMiddleware", "/orders/{id}", "OrdersController.Get", "model binding", "Get()"], stages.Select(s => s.Name));
        Assert.All(stages, s => Assert.Equal(root.TraceId, s.TraceId));
        Assert.All(stages, s => Assert.Equal(FlowScopeSources.PipelineSourceName, s.Source));
        Assert.Equal(stages.Length, stages.Select(s => s.SpanId).Distinct().Count());
        Assert.Equal(root.SpanId, stages[0].ParentSpanId);
        Assert.Equal(stages[0].SpanId, stages[1].ParentSpanId);
        Assert.Equal(stages[3].SpanId, stages[4].ParentSpanId);
        Assert.Equal(stages[3].SpanId, stages[5].ParentSpanId);

        // Times as recorded; the self time is the stage's duration less its direct children's.
        Assert.Equal(TimeSpan.FromMilliseconds(18), stages[1].Duration);
        Assert.Equal(TimeSpan.FromMilliseconds(3), stages[1].SelfTime);
        Assert.Equal(TimeSpan.FromMilliseconds(13.5 - 1 - 11), stages[3].SelfTime);
        Assert.Equal(TimeSpan.FromMilliseconds(11), stages[5].SelfTime);

        // The innermost stage that saw the exception records it; the controller stage only fails.
        Assert.Equal(ActivityStatusCode.Error, stages[5].Status);
        Assert.Equal("no such order", stages[5].StatusMessage);
        Assert.Contains(stages[5].Events, e => e.Name == "exception" && e.Attributes.Contains(new("exception.message", "no such order")));
        Assert.Equal(ActivityStatusCode.Error, stages[3].Status);
        Assert.DoesNotContain(stages[3].Events, e => e.Name == "exception");
        Assert.Equal(ActivityStatusCode.Unset, stages[1].Status);

        // The log entry written while the action ran is an event of the action's stage.
        Assert.Contains(stages[5].Events, e => e.Name == "Loading order 42");

        // Attributes: the kind's type and its own, then those added while it ran.
        Assert.Equal("Microsoft.AspNetCore.Routing.EndpointRoutingMiddleware", stages[1].GetAttribute("code.namespace"));
        Assert.Equal("/orders/{id}", stages[2].GetAttribute("http.route"));
        Assert.Equal("Orders", stages[3].GetAttribute("mvc.controller"));
        Assert.Equal(SpanComponents.Endpoint, stages[2].Component);
        Assert.Equal(SpanComponents.Controller, stages[3].Component);
    }

    [Fact]
    public async Task A_store_counts_a_request_and_its_stages_as_spans_and_their_failures_as_errors()
    {
        var store = TestSpans.NewStore(maxSpansPerTrace: 1_000);
        var batch = new SpanBatch();
        new SpanConverter(new FlowScopeOptions(), "i1").Convert(NewRequest(failing: true), batch);
        await store.AddAsync(batch);

        var summary = Assert.Single((await store.QueryAsync(new TraceQuery())).Traces);
        Assert.Equal(7, summary.SpanCount);
        Assert.Equal(3, summary.ErrorCount);
        Assert.Equal(500, summary.StatusCode);
        Assert.Equal(["server", "middleware", "endpoint", "controller"], summary.Components);
        Assert.Equal(7, store.GetStats().StoredSpans);
        var detail = (await store.GetTraceAsync(summary.TraceId))!;
        Assert.Equal(["GET /orders/{id}", "ExceptionHandlerMiddleware", "EndpointRoutingMiddleware", "/orders/{id}", "OrdersController.Get", "model binding", "Get()"], detail.Spans.Select(s => s.Name));

        // Filters see the stages as spans.
        Assert.Single((await store.QueryAsync(new TraceQuery { Component = "EndpointRoutingMiddleware" })).Traces);
        Assert.Single((await store.QueryAsync(new TraceQuery { Text = "loading ORDER" })).Traces);
        Assert.Single((await store.QueryAsync(new TraceQuery { AttributeKey = "mvc.controller", AttributeValue = "orders" })).Traces);
        Assert.Single((await store.QueryAsync(new TraceQuery { Text = "no such order" })).Traces);
        Assert.Empty((await store.QueryAsync(new TraceQuery { Text = "nowhere to be found" })).Traces);
    }

    [Fact]
    public void The_component_graph_draws_stages_by_kind_with_their_calls()
    {
        var converter = new SpanConverter(new FlowScopeOptions(), "i1");
        var graph = new ComponentGraph();
        foreach (var failing in new[] { false, true, false })
        {
            var batch = new SpanBatch();
            converter.Convert(NewRequest(failing), batch);
            graph.Observe(batch);
        }

        var map = graph.Snapshot(DateTimeOffset.UtcNow);
        var routing = Assert.Single(map.Nodes, n => n.Id == "middleware:EndpointRoutingMiddleware");
        Assert.Equal(3, routing.Count);
        Assert.Equal(3, routing.SelfTimeP50Ms);
        var action = Assert.Single(map.Nodes, n => n.Id == "controller:OrdersController.Get");
        Assert.Equal(1, action.ErrorCount);
        var call = Assert.Single(map.Edges, e => e.Source == "middleware:EndpointRoutingMiddleware" && e.Target == "endpoint:/orders/{id}");
        Assert.Equal(3, call.Count);
        Assert.Contains(map.Edges, e => e.Source == "server:server" && e.Target == "middleware:ExceptionHandlerMiddleware");
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

    private sealed class ActivityFeature(Activity activity) : IHttpActivityFeature
    {
        public Activity Activity { get; set; } = activity;
    }
}
