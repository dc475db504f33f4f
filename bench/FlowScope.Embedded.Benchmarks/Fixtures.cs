using System.Diagnostics;
using System.Globalization;
using FlowScope.Embedded.Capture;
using FlowScope.Embedded.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;

namespace FlowScope.Embedded.Benchmarks;

/// <summary>
/// Builds the inputs the benchmarks and the memory measurement share: realistic activities (an ASP.NET Core server
/// span with the tags the hosting layer sets, plus internal child spans) and span records shaped like the ones the
/// converter produces. Everything is deterministic (fixed seeds) so runs are comparable.
/// </summary>
internal static class Fixtures
{
    /// <summary>The name benchmarks give to their user activity source.</summary>
    public const string UserSourceName = "FlowScope.Bench.UserSource";

    public const string Route = "/rooms/{roomId}/messages";

    private static readonly string[] s_routes =
    [
        "/rooms/{roomId}/messages", "/rooms/{roomId}", "/users/{userId}", "/health", "/api/orders/{id}",
        "/api/orders", "/login", "/rooms",
    ];

    private static readonly string[] s_middleware =
    [
        "ExceptionHandlerMiddleware", "RoutingMiddleware", "AuthenticationMiddleware", "AuthorizationMiddleware",
    ];

    /// <summary>The request-capture settings <c>UseFlowScope</c> uses by default (no request metrics).</summary>
    public static RequestCaptureSettings CaptureSettings() =>
        new(new PathString(FlowScopeOptions.DefaultDashboardPath), FlowScopeOptions.DefaultMaxEventsPerSpan);

    /// <summary>Pipeline stages as FlowScope's pipeline instrumentation defines them for four common middleware.</summary>
    public static readonly StageDefinition[] Stages =
    [
        new("ExceptionHandlerMiddleware", SpanComponents.Middleware, "Microsoft.AspNetCore.Diagnostics.ExceptionHandlerMiddlewareImpl"),
        new("EndpointRoutingMiddleware", SpanComponents.Middleware, "Microsoft.AspNetCore.Routing.EndpointRoutingMiddleware"),
        new("AuthorizationMiddleware", SpanComponents.Middleware, "Microsoft.AspNetCore.Authorization.AuthorizationMiddleware"),
        new("EndpointMiddleware", SpanComponents.Endpoint, "Microsoft.AspNetCore.Routing.EndpointMiddleware"),
    ];

    /// <summary>Options as an app gets them by default.</summary>
    public static FlowScopeOptions DefaultOptions() => new();

    public static SpanConverter NewConverter() => new(DefaultOptions(), "bench-host/4242");

    /// <summary>
    /// An <see cref="HttpContext"/> that looks like a finished request to <c>GET /rooms/42/messages</c> matched by a
    /// route endpoint, as <see cref="HttpRequestInfo.Complete"/> reads it.
    /// </summary>
    public static DefaultHttpContext NewHttpContext(string route = Route, string path = "/rooms/42/messages", int status = 200)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = HttpMethods.Get;
        context.Request.Scheme = "http";
        context.Request.Host = new HostString("localhost", 5000);
        context.Request.Path = path;
        context.Response.StatusCode = status;
        context.SetEndpoint(new RouteEndpoint(
            static _ => Task.CompletedTask, RoutePatternFactory.Parse(route), 0, EndpointMetadataCollection.Empty, route));
        return context;
    }

    /// <summary>Gives the context the request activity, as ASP.NET Core's hosting layer does.</summary>
    public static void SetActivity(HttpContext context, Activity activity) =>
        context.Features.Set<IHttpActivityFeature>(new ActivityFeature(activity));

    private sealed class ActivityFeature(Activity activity) : IHttpActivityFeature
    {
        public Activity Activity { get; set; } = activity;
    }

    /// <summary>
    /// Adds eight OpenTelemetry HTTP server semantic-convention tags (server.address, server.port, url.scheme,
    /// url.path, http.request.method, network.protocol.version, user_agent.original, http.response.status_code):
    /// a typical instrumented server span.
    /// </summary>
    public static void AddServerTags(Activity activity, string path, int status)
    {
        activity.SetTag("server.address", "localhost");
        activity.SetTag("server.port", 5000);
        activity.SetTag("url.scheme", "http");
        activity.SetTag("url.path", path);
        activity.SetTag("http.request.method", "GET");
        activity.SetTag("network.protocol.version", "1.1");
        activity.SetTag("user_agent.original", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0 Safari/537.36");
        activity.SetTag("http.response.status_code", status);
    }

    /// <summary>
    /// A stopped W3C activity made without a listener (so no global state changes). <paramref name="kind"/> and the
    /// source are not settable this way; the benchmarks that need them create activities through an
    /// <see cref="ActivitySource"/> instead.
    /// </summary>
    public static Activity NewStoppedActivity(string operationName)
    {
        var activity = new Activity(operationName);
        activity.SetIdFormat(ActivityIdFormat.W3C);
        activity.IsAllDataRequested = true;
        activity.Start();
        activity.Stop();
        return activity;
    }

    /// <summary>
    /// Span records with the shape the converter gives a five-span request trace: one ASP.NET Core request span with
    /// FlowScope's five HTTP attributes (what <c>-- probe</c> shows on .NET 10) and four middleware stage spans with
    /// their type name.
    /// Every <paramref name="errorEvery"/>-th trace fails with status 500.
    /// </summary>
    public static List<SpanRecord> NewTraceRecords(int traceCount, int spansPerTrace, int seed, DateTimeOffset start, int errorEvery = 50)
    {
        var random = new Random(seed);
        var records = new List<SpanRecord>(traceCount * spansPerTrace);
        for (var t = 0; t < traceCount; t++)
        {
            var traceId = ActivityTraceId.CreateRandom().ToHexString();
            var rootId = ActivitySpanId.CreateRandom().ToHexString();
            var route = s_routes[random.Next(s_routes.Length)];
            var path = route.Replace("{roomId}", random.Next(1000).ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
                .Replace("{userId}", random.Next(1000).ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
                .Replace("{id}", random.Next(1000).ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);
            var failed = errorEvery > 0 && t % errorEvery == errorEvery - 1;
            var status = failed ? 500 : 200;
            var startTime = start.AddMilliseconds(t * 3);
            var duration = TimeSpan.FromMilliseconds(1 + random.Next(40));
            var statusText = status.ToString(CultureInfo.InvariantCulture);
            KeyValuePair<string, string>[] rootAttributes =
            [
                new("http.request.method", "GET"), new("url.path", path), new("url.scheme", "http"), new("http.route", route),
                new("http.response.status_code", statusText),
            ];
            records.Add(new SpanRecord(
                traceId, rootId, null, "GET " + route, ActivityKind.Server, SpanComponents.Server, startTime, duration,
                failed ? ActivityStatusCode.Error : ActivityStatusCode.Unset, failed ? "Internal Server Error" : null,
                rootAttributes, [], [], "Microsoft.AspNetCore", "bench-host/4242"));
            for (var s = 1; s < spansPerTrace; s++)
            {
                var middleware = s_middleware[(s - 1) % s_middleware.Length];
                KeyValuePair<string, string>[] attributes = [new("code.namespace", middleware)];
                records.Add(new SpanRecord(
                    traceId, ActivitySpanId.CreateRandom().ToHexString(), rootId, middleware, ActivityKind.Internal,
                    SpanComponents.Middleware, startTime.AddTicks(s * 100), duration / (s + 1), ActivityStatusCode.Unset, null,
                    attributes, [], [], FlowScopeSources.PipelineSourceName, "bench-host/4242"));
            }
        }

        return records;
    }
}
