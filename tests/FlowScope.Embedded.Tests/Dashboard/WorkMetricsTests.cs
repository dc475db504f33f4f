using System.Diagnostics;
using FlowScope.Embedded.Metrics;
using FlowScope.Embedded.Storage;
using static FlowScope.Embedded.Tests.TestSpans;

namespace FlowScope.Embedded.Tests.Dashboard;

/// <summary>The header's figures for every kind of work (<see cref="RequestMetrics"/>) and the kind of a trace.</summary>
public sealed class WorkMetricsTests
{
    private static readonly DateTimeOffset Now = T0.AddSeconds(1);

    private static SpanRecord Unit(int trace, int span, int? parent, string component, ActivityKind kind, double durationMs, ActivityStatusCode status = ActivityStatusCode.Unset, params (string, string)[] attributes) =>
        new(TraceId(trace), SpanId(span), parent is { } p ? SpanId(p) : null, $"{component} {span}", kind, component, T0, TimeSpan.FromMilliseconds(durationMs), status, null,
            attributes.Select(a => KeyValuePair.Create(a.Item1, a.Item2)).ToArray(), [], [], "test", "test-instance");

    private static KindMetricsSnapshot Kind(RequestMetricsSnapshot snapshot, string kind) => snapshot.Kinds.Single(k => k.Kind == kind);

    [Fact]
    public void Each_root_kind_is_decided_in_one_place()
    {
        Assert.Equal("http", TraceKinds.Of(Unit(1, 1, null, SpanComponents.Server, ActivityKind.Server, 1, attributes: ("http.request.method", "GET"))));
        Assert.Equal("message", TraceKinds.Of(Unit(1, 1, null, SpanComponents.Server, ActivityKind.Server, 1)));
        Assert.Equal("connection", TraceKinds.Of(Unit(1, 1, null, SpanComponents.Server, ActivityKind.Server, 1, attributes: ("flowscope.connection", "websocket"))));
        Assert.Equal("connection", TraceKinds.Of(Unit(1, 1, null, SpanComponents.Server, ActivityKind.Server, 1, attributes: ("http.response.status_code", "101"))));
        Assert.Equal("message", TraceKinds.Of(Unit(1, 1, null, SpanComponents.Queue, ActivityKind.Consumer, 1)));
        Assert.Equal("message", TraceKinds.Of(Unit(1, 1, null, SpanComponents.Queue, ActivityKind.Producer, 1)));
        Assert.Equal("worker", TraceKinds.Of(Unit(1, 1, null, SpanComponents.Worker, ActivityKind.Internal, 1)));
        Assert.Equal("simulator", TraceKinds.Of(Unit(1, 1, null, SpanComponents.Simulator, ActivityKind.Internal, 1)));
        Assert.Equal("other", TraceKinds.Of(Unit(1, 1, null, SpanComponents.Custom, ActivityKind.Internal, 1)));
        Assert.Null(TraceKinds.UnitOf(Unit(1, 1, null, SpanComponents.Queue, ActivityKind.Producer, 1)));
    }

    [Fact]
    public void Connections_stay_out_of_the_request_percentiles_and_are_counted_as_connections()
    {
        var metrics = new RequestMetrics();
        var spans = new List<SpanRecord>();
        for (var i = 1; i <= 20; i++)
        {
            spans.Add(Unit(i, i, null, SpanComponents.Server, ActivityKind.Server, 2, attributes: [("http.request.method", "GET"), ("http.response.status_code", "200")]));
        }

        spans.Add(Unit(100, 100, null, SpanComponents.Server, ActivityKind.Server, 33_300, attributes: [("http.request.method", "GET"), ("flowscope.connection", "websocket")]));
        metrics.Observe(Batch([.. spans]));

        var snapshot = metrics.Snapshot(Now);
        Assert.Equal(20, snapshot.Http.Total);
        Assert.Equal(2, snapshot.Http.P99Ms);
        Assert.Equal(1, Kind(snapshot, "connection").Total);
        Assert.Equal(33_300, Kind(snapshot, "connection").P50Ms);
    }

    [Fact]
    public void Errors_count_in_the_unit_of_work_where_they_happen_and_in_every_unit_around_it()
    {
        var metrics = new RequestMetrics();

        // A simulator run sends a message; its handler (a consumer with a worker unit in it) fails to send a notification.
        // The children end first, as spans do.
        metrics.Observe(Batch(
            Unit(1, 4, 3, SpanComponents.Queue, ActivityKind.Producer, 0.1, ActivityStatusCode.Error),
            Unit(1, 3, 2, SpanComponents.Worker, ActivityKind.Internal, 1),
            Unit(1, 2, 9, SpanComponents.Queue, ActivityKind.Consumer, 1.2),
            Unit(1, 9, 1, SpanComponents.Queue, ActivityKind.Producer, 0.1),
            Unit(1, 1, null, SpanComponents.Simulator, ActivityKind.Internal, 2),

            // A healthy one of each.
            Unit(2, 23, 22, SpanComponents.Worker, ActivityKind.Internal, 1),
            Unit(2, 22, null, SpanComponents.Queue, ActivityKind.Consumer, 1)));

        var snapshot = metrics.Snapshot(Now);
        Assert.Equal(0.5, Kind(snapshot, "worker").ErrorRate);
        Assert.Equal(0.5, Kind(snapshot, "message").ErrorRate);
        Assert.Equal(1, Kind(snapshot, "simulator").ErrorsTotal);
        Assert.Equal(0, snapshot.Http.Total);
    }

    [Fact]
    public void Client_errors_are_counted_apart_from_failures()
    {
        var metrics = new RequestMetrics();
        metrics.Observe(Batch(
            Unit(1, 1, null, SpanComponents.Server, ActivityKind.Server, 1, attributes: [("http.request.method", "GET"), ("http.response.status_code", "404")]),
            Unit(2, 2, null, SpanComponents.Server, ActivityKind.Server, 1, attributes: [("http.request.method", "GET"), ("http.response.status_code", "429")]),
            Unit(3, 3, null, SpanComponents.Server, ActivityKind.Server, 1, ActivityStatusCode.Error, ("http.request.method", "GET"), ("http.response.status_code", "500")),
            Unit(4, 4, null, SpanComponents.Server, ActivityKind.Server, 1, attributes: [("http.request.method", "GET"), ("http.response.status_code", "200")])));

        var http = metrics.Snapshot(Now).Http;
        Assert.Equal(2, http.ClientErrorsLastMinute);
        Assert.Equal(1, http.ErrorsLastMinute);
        Assert.Equal(0.25, http.ErrorRate);
    }

    [Fact]
    public void Database_commands_per_request_are_kept_per_route()
    {
        var metrics = new RequestMetrics();
        SpanRecord Request(int n, string route, int commands, int nPlusOne) => new(
            TraceId(n), SpanId(n), null, $"GET {route}", ActivityKind.Server, SpanComponents.Server, T0, TimeSpan.FromMilliseconds(5), ActivityStatusCode.Unset, null,
            [new("http.request.method", "GET"), new("http.route", route), new("http.response.status_code", "200"), new("flowscope.db.count", commands.ToString(System.Globalization.CultureInfo.InvariantCulture)), new("flowscope.db.n_plus_one", nPlusOne.ToString(System.Globalization.CultureInfo.InvariantCulture))],
            [], [], "test", "test-instance");
        metrics.Observe(Batch(Request(1, "/articles", 24, 23), Request(2, "/articles", 2, 0), Request(3, "/tags", 1, 0)));

        var routes = metrics.Snapshot(Now).Routes;
        var articles = routes.Single(r => r.Route == "GET /articles");
        Assert.Equal(2, articles.Requests);
        Assert.Equal(13, articles.QueriesPerRequest);
        Assert.Equal(24, articles.MaxQueriesPerRequest);
        Assert.Equal(1, articles.NPlusOneRequests);
        Assert.Equal("GET /articles", routes[0].Route); // most queries per request first
    }
}
