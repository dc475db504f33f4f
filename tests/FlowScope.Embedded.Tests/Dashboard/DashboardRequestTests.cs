using FlowScope.Embedded.Dashboard;
using FlowScope.Embedded.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace FlowScope.Embedded.Tests.Dashboard;

/// <summary>The trace list's new filters, routine requests and the choice of a response encoding.</summary>
public sealed class DashboardRequestTests
{
    private static QueryCollection Query(params (string Key, string Value)[] pairs) =>
        new(pairs.ToDictionary(p => p.Key, p => new StringValues(p.Value)));

    [Fact]
    public void Status_class_kind_and_N_plus_one_are_parsed_and_bad_values_named()
    {
        Assert.True(QueryParser.TryParse(Query(("statusClass", "4xx"), ("kind", "Message"), ("nPlusOne", "true")), out var query, out _));
        Assert.Equal((4, "message", true), (query.StatusClass, query.Kind, query.NPlusOne));

        foreach (var (key, value) in new[] { ("statusClass", "6xx"), ("statusClass", "client"), ("kind", "cron"), ("nPlusOne", "yes") })
        {
            Assert.False(QueryParser.TryParse(Query((key, value)), out _, out var error));
            Assert.Equal(key, error!.Parameter);
        }
    }

    private static TraceSummary Summary(string name, string? route = null, int? status = 200, string kind = "http", int errors = 0) => new()
    {
        TraceId = new string('a', 32), Name = name, Route = route, StatusCode = status, Kind = kind, ErrorCount = errors,
        StartTime = DateTimeOffset.UnixEpoch, Duration = TimeSpan.FromMilliseconds(1), SpanCount = 1, Components = ["server"],
    };

    [Fact]
    public void Routine_requests_follow_the_option_and_a_failing_one_is_never_routine()
    {
        var routine = new RoutineRequests(FlowScopeOptions.DefaultRoutinePaths);

        Assert.True(routine.IsRoutine(Summary("GET /app.js")));
        Assert.True(routine.IsRoutine(Summary("GET /css/site.CSS?v=3")));
        Assert.True(routine.IsRoutine(Summary("GET /favicon.ico", status: 404)));
        Assert.True(routine.IsRoutine(Summary("GET /health", route: "/health")));
        Assert.True(routine.IsRoutine(Summary("GET /openapi/v1.json", route: "/openapi/{documentName}.json")));
        Assert.False(routine.IsRoutine(Summary("GET /health", route: "/health", status: 503, errors: 1)));
        Assert.False(routine.IsRoutine(Summary("GET api/rooms", route: "api/rooms")));
        Assert.False(routine.IsRoutine(Summary("simulate chat", status: null, kind: "simulator")));

        var custom = new RoutineRequests(["/internal/*"]);
        Assert.True(custom.IsRoutine(Summary("GET /internal/ping")));
        Assert.False(custom.IsRoutine(Summary("GET /app.js")));
    }

    [Theory]
    [InlineData("gzip, deflate, br, zstd", "br")]
    [InlineData("gzip", "gzip")]
    [InlineData("br;q=0, gzip", "gzip")]
    [InlineData("*", "br")]
    [InlineData("identity", null)]
    [InlineData("", null)]
    public void The_encoding_is_the_best_one_the_client_accepts(string acceptEncoding, string? expected)
    {
        var context = new DefaultHttpContext();
        context.Request.Headers.AcceptEncoding = acceptEncoding;
        Assert.Equal(expected, ResponseCompression.Choose(context.Request));
    }
}
