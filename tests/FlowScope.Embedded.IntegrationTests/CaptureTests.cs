using System.Net;
using System.Text.Json;
using FlowScope.Embedded.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FlowScope.Embedded.IntegrationTests;

public sealed class CaptureTests
{
    [Fact]
    public async Task A_request_becomes_a_trace_named_by_method_and_route_with_its_outcome()
    {
        await using var app = await TestApp.StartAsync();

        Assert.Equal("hello 5", await app.Client.GetStringAsync("/hello/5"));

        var trace = await app.WaitForTraceAsync(t => t.Route == "/hello/{id:int}");
        Assert.Equal("GET /hello/{id:int}", trace.Name);
        Assert.Equal("GET", trace.Method);
        Assert.Equal(200, trace.StatusCode);
        Assert.False(trace.IsError);
        Assert.Contains("server", trace.Components);
        Assert.Contains("endpoint", trace.Components);

        var detail = await app.GetJsonAsync($"/_flowscope/api/traces/{trace.TraceId}");
        var root = Assert.Single(detail.GetProperty("spans").EnumerateArray(), s => s.GetProperty("parentSpanId").ValueKind == JsonValueKind.Null);
        Assert.Equal("server", root.GetProperty("kind").GetString());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("parentSpanId").ValueKind);
        Assert.Equal("/hello/5", root.GetProperty("attributes").GetProperty("url.path").GetString());
        Assert.Equal("200", root.GetProperty("attributes").GetProperty("http.response.status_code").GetString());
    }

    [Fact]
    public async Task Spans_created_inside_a_request_nest_under_it()
    {
        await using var app = await TestApp.StartAsync();

        await app.Client.GetStringAsync("/nested");

        var trace = await app.WaitForTraceAsync(t => t.Route == "/nested" && t.Components.Contains("custom"));
        var spans = (await app.GetJsonAsync($"/_flowscope/api/traces/{trace.TraceId}")).GetProperty("spans").EnumerateArray().ToArray();
        var byName = spans.ToDictionary(s => s.GetProperty("component").GetString() + ":" + s.GetProperty("name").GetString());
        var root = byName["server:GET /nested"];
        var endpoint = byName["endpoint:GET /nested"];
        var outer = byName["custom:outer step"];
        var inner = byName["custom:inner step"];

        // Spans the endpoint starts sit under the endpoint's stage, which sits under the middleware chain.
        Assert.Equal("endpoint", endpoint.GetProperty("component").GetString());
        Assert.Equal(endpoint.GetProperty("spanId").GetString(), outer.GetProperty("parentSpanId").GetString());
        Assert.Equal(outer.GetProperty("spanId").GetString(), inner.GetProperty("parentSpanId").GetString());
        Assert.Equal("deep", inner.GetProperty("attributes").GetProperty("step.detail").GetString());
        Assert.Equal("custom", inner.GetProperty("component").GetString());
        Assert.All(spans, s => Assert.Equal(trace.TraceId, s.GetProperty("traceId").GetString()));
        Assert.True(root.GetProperty("durationMs").GetDouble() >= outer.GetProperty("durationMs").GetDouble());
    }

    [Fact]
    public async Task An_unhandled_exception_marks_the_trace_as_failed_and_records_the_exception()
    {
        await using var app = await TestApp.StartAsync();

        // The test server hands the app's exception to the caller; a real server answers 500.
        await Assert.ThrowsAnyAsync<Exception>(() => app.Client.GetAsync("/boom"));

        var trace = await app.WaitForTraceAsync(t => t.Route == "/boom");
        Assert.True(trace.IsError);
        var spans = (await app.Store.GetTraceAsync(trace.TraceId))!.Spans;
        var root = spans.Single(s => s.ParentSpanId is null);
        Assert.Equal(System.Diagnostics.ActivityStatusCode.Error, root.Status);
        Assert.Equal("The order could not be found.", root.StatusMessage);

        // The exception is recorded once, on the stage that threw it: the endpoint.
        var endpoint = spans.Single(s => s.Component == "endpoint");
        Assert.Equal(System.Diagnostics.ActivityStatusCode.Error, endpoint.Status);
        Assert.Single(spans.SelectMany(s => s.Events), e => e.Name == "exception");
        var exception = Assert.Single(endpoint.Events, e => e.Name == "exception");
        Assert.Contains(exception.Attributes, a => a.Key == "exception.type" && a.Value == "System.InvalidOperationException");
    }

    [Fact]
    public async Task A_client_error_status_is_recorded_but_is_not_a_failure()
    {
        await using var app = await TestApp.StartAsync();

        var response = await app.Client.GetAsync("/teapot");
        Assert.Equal(418, (int)response.StatusCode);

        var trace = await app.WaitForTraceAsync(t => t.Route == "/teapot");
        Assert.Equal(418, trace.StatusCode);
        Assert.False(trace.IsError);
    }

    [Fact]
    public async Task FlowScope_s_own_dashboard_and_API_requests_are_never_captured()
    {
        await using var app = await TestApp.StartAsync();

        foreach (var url in new[] { "/_flowscope", "/_flowscope/", "/_flowscope/app.js", "/_flowscope/missing.js", "/_flowscope/api/traces", "/_flowscope/api/stats", "/_flowscope/api/traces/0123", "/_flowscope/api/nothing" })
        {
            using var _ = await app.Client.GetAsync(url);
        }

        await app.Client.GetStringAsync("/hello/1");
        await app.WaitForTraceAsync(t => t.Route == "/hello/{id:int}");

        var all = await app.Store.QueryAsync(new TraceQuery { Limit = 1000 });
        var only = Assert.Single(all.Traces);
        Assert.Equal("GET /hello/{id:int}", only.Name);
        var stats = await app.GetJsonAsync("/_flowscope/api/stats");
        Assert.Equal(only.SpanCount, stats.GetProperty("captured").GetInt64());
    }

    [Fact]
    public async Task The_kill_switch_captures_nothing_and_maps_no_dashboard()
    {
        await using var app = await TestApp.StartAsync(new() { ["FlowScope:Enabled"] = "false" });

        Assert.Equal("hello 1", await app.Client.GetStringAsync("/hello/1"));
        Assert.Equal(HttpStatusCode.NotFound, (await app.Client.GetAsync("/_flowscope/")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await app.Client.GetAsync("/_flowscope/api/traces")).StatusCode);

        // With the switch off no listener exists, so nothing can reach the store later either.
        Assert.Equal(0, app.Store.GetStats().StoredSpans);
        Assert.Equal(0, app.App.Services.GetRequiredService<Buffering.SpanBuffer>().Accepted + app.App.Services.GetRequiredService<Buffering.SpanBuffer>().Count);
    }

    [Fact]
    public async Task UseFlowScope_without_AddFlowScope_says_how_to_fix_it()
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseTestServer();
        await using var app = builder.Build();

        var error = Assert.Throws<InvalidOperationException>(() => app.UseFlowScope());
        Assert.Contains("builder.Services.AddFlowScope()", error.Message, StringComparison.Ordinal);
        error = Assert.Throws<InvalidOperationException>(() => app.MapFlowScope());
        Assert.Contains("AddFlowScope()", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Options_come_from_the_FlowScope_configuration_section()
    {
        await using var app = await TestApp.StartAsync(new() { ["FlowScope:MaxTraces"] = "3", ["FlowScope:Sources:0"] = "Configured.Source" });

        for (var i = 0; i < 5; i++)
        {
            await app.Client.GetStringAsync($"/hello/{i}");
        }

        await Eventually.TrueAsync(async () => (await app.GetJsonAsync("/_flowscope/api/stats")).GetProperty("evictedTraces").GetInt64() == 2);
        var stats = await app.GetJsonAsync("/_flowscope/api/stats");
        Assert.Equal(3, stats.GetProperty("storedTraces").GetInt64());
        var options = app.App.Services.GetRequiredService<IOptions<FlowScopeOptions>>().Value;
        Assert.Contains("Configured.Source", options.Sources);
        Assert.Contains("TestApp", options.Sources); // code configuration applies after configuration binding
    }

    [Fact]
    public async Task Invalid_options_stop_the_host_at_start_with_the_key_named()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => TestApp.StartAsync(new() { ["FlowScope:BufferCapacity"] = "0" }));
        Assert.Contains("FlowScope:BufferCapacity", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Startup_style_hosting_captures_requests_and_serves_the_dashboard()
    {
        using var host = await new HostBuilder()
            .ConfigureLogging(l => l.ClearProviders())
            .ConfigureWebHost(web => web
                .UseTestServer()
                .ConfigureServices(services => services.AddFlowScope())
                .Configure(app =>
                {
                    app.UseFlowScope();
                    app.Run(context => context.Response.WriteAsync("classic"));
                }))
            .StartAsync();
        using var client = host.GetTestClient();

        Assert.Equal("classic", await client.GetStringAsync("/orders/7"));

        var store = host.Services.GetRequiredService<ITraceStore>();
        await Eventually.TrueAsync(async () => (await store.QueryAsync(new TraceQuery())).Traces.Any(t => t.Name == "GET /orders/7"));
        var list = await client.GetStringAsync("/_flowscope/api/traces");
        Assert.Contains("GET /orders/7", list, StringComparison.Ordinal);
        Assert.Contains("<html", await client.GetStringAsync("/_flowscope/"), StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("_flowscope", string.Join(",", (await store.QueryAsync(new TraceQuery())).Traces.Select(t => t.Name)), StringComparison.Ordinal);
        await host.StopAsync();
    }
}
