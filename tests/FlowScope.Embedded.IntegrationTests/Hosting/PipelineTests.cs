using System.Net;
using System.Net.Http.Json;
using FlowScope.Embedded.IntegrationTests.Privacy;
using Microsoft.Extensions.DependencyInjection;

namespace FlowScope.Embedded.IntegrationTests.Hosting;

/// <summary>UseFlowScope() leaves the app's pipeline as the app built it, and app requests never enter the dashboard's branch.</summary>
public sealed class PipelineTests
{
    [Fact]
    public async Task A_Startup_app_without_endpoint_routing_has_the_same_middleware_with_FlowScope_and_no_routing_middleware()
    {
        IReadOnlyList<string> without;
        await using (var plain = await NamingTests.LegacyHost.StartAsync(flowScope: false))
        {
            Assert.Equal(HttpStatusCode.OK, (await plain.Client.PostAsJsonAsync("/legacy/articles", new { title = "First" })).StatusCode);
            without = plain.Services.GetRequiredService<MiddlewareRecorder>().Components;
        }

        await using var app = await NamingTests.LegacyHost.StartAsync();
        Assert.Equal(HttpStatusCode.OK, (await app.Client.PostAsJsonAsync("/legacy/articles", new { title = "First" })).StatusCode);
        var with = app.Services.GetRequiredService<MiddlewareRecorder>().Components;

        // The app's middleware in the app's order; FlowScope's two components stand where UseFlowScope() was called.
        Assert.Equal(without, with.Where(c => !MiddlewareRecorder.IsFlowScope(c)));
        Assert.Equal(2, with.Count(MiddlewareRecorder.IsFlowScope));
        Assert.DoesNotContain(with, c => c.Contains("Routing", StringComparison.Ordinal) && !c.Contains("RouterMiddleware", StringComparison.Ordinal));

        // What FlowScope recorded of the request: the app's middleware, in order, and nothing of its own.
        var spans = await app.SpansAsync(await app.WaitForAsync("POST legacy/articles"));
        var middleware = spans.Where(s => s.Str("component") == "middleware").OrderBy(s => s.GetProperty("startTime").GetDateTimeOffset()).Select(s => s.Str("name")!).ToArray();
        Assert.Equal(["AppErrorHandlingMiddleware", "RouterMiddleware"], middleware);
    }

    [Fact]
    public async Task App_requests_never_enter_the_dashboard_branch()
    {
        await using var app = await HostingApp.StartAsync();
        Assert.Equal(HttpStatusCode.OK, (await app.Client.GetAsync("/todos/")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await app.Client.GetAsync("/_flowscopex/api/stats")).StatusCode); // a path that only starts alike

        var trace = await app.WaitForTraceAsync(t => t.Str("name") == "GET /todos/", "the app request");
        var names = (await app.SpansAsync(trace)).Select(s => s.Str("name")).ToArray();
        Assert.DoesNotContain(names, n => n!.Contains("FlowScope", StringComparison.Ordinal) || n.Contains("Dashboard", StringComparison.Ordinal));
        await app.WaitForTraceAsync(t => t.Str("name") == "GET /_flowscopex/api/stats", "the look-alike path is the app's own request");
        var list = await app.GetJsonAsync("/_flowscope/api/traces?limit=1000");
        Assert.DoesNotContain(list.GetProperty("traces").EnumerateArray(), t => t.Str("name")!.StartsWith("GET /_flowscope/", StringComparison.Ordinal));
    }
}
