using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using FlowScope.Embedded.Buffering;
using FlowScope.Embedded.Capture;
using FlowScope.Embedded.Diagnostics;
using FlowScope.Embedded.Internal;
using FlowScope.Embedded.Metrics;
using FlowScope.Embedded.Queues.Internal;
using FlowScope.Embedded.Workers.Internal;
using FlowScope.Embedded.Storage;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FlowScope.Embedded.Dashboard;

/// <summary>The dashboard's endpoints: static files, the JSON API and the live stream.</summary>
internal static class DashboardEndpoints
{
    public static IEndpointConventionBuilder Map(IEndpointRouteBuilder endpoints, string pattern)
    {
        var group = endpoints.MapGroup(pattern);
        group.MapGet("/", DashboardGuard.Page(ServeIndexAsync)).WithDisplayName("FlowScope dashboard");
        group.MapGet("/api/traces", DashboardGuard.Api(ListTracesAsync)).WithDisplayName("FlowScope API: traces");
        group.MapGet("/api/traces/{traceId}", DashboardGuard.Api(GetTraceAsync)).WithDisplayName("FlowScope API: trace");
        group.MapGet("/api/stats", DashboardGuard.Api(GetStatsAsync)).WithDisplayName("FlowScope API: stats");
        group.MapGet("/api/map", DashboardGuard.Api(GetMapAsync)).WithDisplayName("FlowScope API: component map");
        group.MapGet("/api/metrics", DashboardGuard.Api(GetMetricsAsync)).WithDisplayName("FlowScope API: metrics");
        group.MapGet("/api/routes", DashboardGuard.Api(GetRoutesAsync)).WithDisplayName("FlowScope API: routes seen and kept");
        group.MapGet("/api/stream", DashboardGuard.Api(LiveStream.RunAsync)).WithDisplayName("FlowScope API: live stream");
        Operator.OperatorEndpoints.Map(group, DashboardGuard.Api);
        group.MapGet("/api/{**rest}", DashboardGuard.Api(ctx => WriteProblemAsync(ctx, StatusCodes.Status404NotFound, "Not found", "No FlowScope API at this path.", null))).WithDisplayName("FlowScope API: not found");
        group.MapGet("/{**asset}", DashboardGuard.Page(ServeAssetAsync)).WithDisplayName("FlowScope dashboard asset");

        // Not part of the app's API description or of its HTTP metrics.
        group.ExcludeFromDescription();
        group.DisableHttpMetrics();
        return group;
    }

    private static Task ServeIndexAsync(HttpContext context)
    {
        var path = context.Request.PathBase.Add(context.Request.Path).Value ?? string.Empty;
        if (!path.EndsWith('/'))
        {
            // Relative asset and API URLs in the page need the trailing slash. The redirect is relative too
            // ("_flowscope/"), so it keeps whatever prefix a proxy stripped before the request reached the app.
            context.Response.Redirect(path[(path.LastIndexOf('/') + 1)..] + "/" + context.Request.QueryString.Value);
            return Task.CompletedTask;
        }

        return ServeFileAsync(context, "index.html");
    }

    private static Task ServeAssetAsync(HttpContext context)
    {
        var asset = context.Request.RouteValues["asset"] as string ?? string.Empty;
        return ServeFileAsync(context, asset);
    }

    private static Task ServeFileAsync(HttpContext context, string path) =>
        context.RequestServices.GetRequiredService<DashboardAssets>().ServeAsync(context, path);

    private static async Task ListTracesAsync(HttpContext context)
    {
        if (!QueryParser.TryParse(context.Request.Query, out var query, out var error))
        {
            await WriteProblemAsync(context, StatusCodes.Status400BadRequest, "Invalid query parameter", error!.Detail, error.Parameter).ConfigureAwait(false);
            return;
        }

        var store = context.RequestServices.GetRequiredService<ITraceStore>();
        TracePage page;
        try
        {
            page = await store.QueryAsync(query, context.RequestAborted).ConfigureAwait(false);
        }
        catch (ArgumentException ex) when (query.Cursor is not null)
        {
            await WriteProblemAsync(context, StatusCodes.Status400BadRequest, "Invalid query parameter", ex.Message.Split(" (Parameter")[0], "cursor").ConfigureAwait(false);
            return;
        }

        var routine = context.RequestServices.GetRequiredService<RoutineRequests>();
        var traces = new TraceSummaryDto[page.Traces.Count];
        for (var i = 0; i < traces.Length; i++)
        {
            traces[i] = TraceSummaryDto.From(page.Traces[i], routine);
        }

        await WriteJsonAsync(context, new TraceListResponse(traces, page.NextCursor), DashboardJsonContext.Default.TraceListResponse).ConfigureAwait(false);
    }

    private static async Task GetTraceAsync(HttpContext context)
    {
        var traceId = context.Request.RouteValues["traceId"] as string ?? string.Empty;
        if (!IsTraceId(traceId))
        {
            await WriteProblemAsync(context, StatusCodes.Status400BadRequest, "Invalid trace id", "A trace id is 32 hexadecimal digits.", "traceId").ConfigureAwait(false);
            return;
        }

        var store = context.RequestServices.GetRequiredService<ITraceStore>();
        var trace = await store.GetTraceAsync(traceId.ToLowerInvariant(), context.RequestAborted).ConfigureAwait(false);
        if (trace is null)
        {
            await WriteProblemAsync(context, StatusCodes.Status404NotFound, "Trace not found", $"No trace {traceId} is held; it may have been evicted.", "traceId").ConfigureAwait(false);
            return;
        }

        var spans = new SpanDto[trace.Spans.Count];
        for (var i = 0; i < spans.Length; i++)
        {
            spans[i] = SpanDto.From(trace.Spans[i]);
        }

        var response = new TraceDetailResponse(trace.Summary.TraceId, TraceSummaryDto.From(trace.Summary, context.RequestServices.GetRequiredService<RoutineRequests>()), spans);
        await WriteJsonAsync(context, response, DashboardJsonContext.Default.TraceDetailResponse).ConfigureAwait(false);
    }

    private static Task GetStatsAsync(HttpContext context) =>
        WriteJsonAsync(context, Stats(context.RequestServices), DashboardJsonContext.Default.StatsResponse);

    /// <summary>What <c>api/stats</c> answers (the MCP endpoint's metrics tool reads it too).</summary>
    internal static StatsResponse Stats(IServiceProvider services)
    {
        var buffer = services.GetRequiredService<SpanBuffer>();
        var totals = services.GetRequiredService<PumpCounters>().Read(buffer, services.GetRequiredService<ITraceStore>());
        var store = totals.Store;
        var runtime = services.GetRequiredService<FlowScopeRuntime>();
        var time = services.GetRequiredService<TimeProvider>();
        var options = services.GetRequiredService<IOptions<FlowScopeOptions>>().Value;
        return new StatsResponse(
            Captured: totals.Captured,
            Dropped: totals.Dropped,
            Rejected: store.RejectedSpans,
            Failed: totals.Failed,
            EvictedTraces: store.EvictedTraces,
            EvictedSpans: store.EvictedSpans,
            StoredTraces: store.StoredTraces,
            StoredSpans: store.StoredSpans,
            MaxTraces: options.MaxTraces,
            Buffered: totals.Buffered,
            BufferCapacity: buffer.Capacity,
            MemoryBytes: store.MemoryBytes,
            MemoryCapacityBytes: store.CapacityBytes,
            LiveSubscribers: services.GetRequiredService<LiveSubscriptions>().Count,
            UptimeSeconds: Math.Round((time.GetUtcNow() - runtime.StartedAt).TotalSeconds, 1),
            StartedAt: runtime.StartedAt,
            Instance: options.InstanceName ?? $"{Environment.MachineName}/{Environment.ProcessId}",
            Extensions: Contributions(services));
    }

    private static Task GetRoutesAsync(HttpContext context)
    {
        var routes = context.RequestServices.GetRequiredService<ITraceStore>().GetRouteStats();
        var dtos = new RouteDto[Math.Min(routes.Count, MaxRoutesListed)];
        for (var i = 0; i < dtos.Length; i++)
        {
            var r = routes[i];
            dtos[i] = new RouteDto(r.Route, r.Seen, r.Kept, r.KeptForError, r.KeptAsSlow, r.KeptAsSample);
        }

        return WriteJsonAsync(context, new RoutesResponse(dtos, routes.Count), DashboardJsonContext.Default.RoutesResponse);
    }

    /// <summary>The busiest routes listed by <c>api/routes</c> (the store tracks at most 2 048).</summary>
    private const int MaxRoutesListed = 500;

    private static Task GetMapAsync(HttpContext context)
    {
        var services = context.RequestServices;
        var map = services.GetRequiredService<ComponentGraph>().Snapshot(services.GetRequiredService<TimeProvider>().GetUtcNow());
        return WriteJsonAsync(context, new MapResponse(map.Nodes, map.Edges, map.Overflow), DashboardJsonContext.Default.MapResponse);
    }

    private static Task GetMetricsAsync(HttpContext context) =>
        WriteJsonAsync(context, Metrics(context.RequestServices), DashboardJsonContext.Default.MetricsResponse);

    /// <summary>What <c>api/metrics</c> answers (the MCP endpoint's metrics tool reads it too).</summary>
    internal static MetricsResponse Metrics(IServiceProvider services)
    {
        var now = services.GetRequiredService<TimeProvider>().GetUtcNow();
        var runtime = services.GetRequiredService<FlowScopeRuntime>();
        return MetricsResponse.From(
            services.GetRequiredService<RequestMetrics>().Snapshot(now),
            Math.Round((now - runtime.StartedAt).TotalSeconds, 1),
            services.GetRequiredService<QueueRegistry>().Snapshot(),
            services.GetRequiredService<WorkerRegistry>().Snapshot());
    }

    private static Dictionary<string, IReadOnlyDictionary<string, double>> Contributions(IServiceProvider services)
    {
        var sections = new Dictionary<string, IReadOnlyDictionary<string, double>>(StringComparer.Ordinal);
        foreach (var contributor in services.GetServices<IStatsContributor>())
        {
            try
            {
                if (contributor.GetStats() is { Count: > 0 } stats)
                {
                    sections[contributor.Name] = stats;
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // A failing section is left out; the rest of the stats still answer.
            }
        }

        return sections;
    }

    internal static bool IsTraceId(string value)
    {
        if (value.Length != 32)
        {
            return false;
        }

        foreach (var c in value)
        {
            if (!char.IsAsciiHexDigit(c))
            {
                return false;
            }
        }

        return true;
    }

    internal static Task WriteJsonAsync<T>(HttpContext context, T value, JsonTypeInfo<T> typeInfo)
    {
        context.Response.Headers.CacheControl = "no-store";
        return ResponseCompression.WriteJsonAsync(context, value, typeInfo, "application/json; charset=utf-8");
    }

    internal static Task WriteProblemAsync(HttpContext context, int status, string title, string detail, string? parameter)
    {
        context.Response.StatusCode = status;
        context.Response.Headers.CacheControl = "no-store";
        var problem = new ProblemResponse(
            status == StatusCodes.Status404NotFound ? "https://tools.ietf.org/html/rfc9110#section-15.5.5" : "https://tools.ietf.org/html/rfc9110#section-15.5.1",
            title,
            status,
            detail,
            parameter);
        return context.Response.WriteAsJsonAsync(problem, DashboardJsonContext.Default.ProblemResponse, "application/problem+json; charset=utf-8", context.RequestAborted);
    }

    internal static string Serialize<T>(T value, JsonTypeInfo<T> typeInfo) => JsonSerializer.Serialize(value, typeInfo);

    internal static string FormatVersion(long version) => version.ToString(CultureInfo.InvariantCulture);
}
