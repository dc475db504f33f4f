using System.Diagnostics;
using System.Text.Json;

namespace FlowScope.Embedded.IntegrationTests;

public sealed class MapAndMetricsTests
{
    [Fact]
    public async Task The_component_map_counts_the_calls_the_traffic_made()
    {
        await using var app = await TestApp.StartAsync();
        for (var i = 0; i < 3; i++)
        {
            await app.Client.GetStringAsync($"/hello/{i}");
        }

        for (var i = 0; i < 2; i++)
        {
            await app.Client.GetStringAsync("/nested");
        }

        await Eventually.TrueAsync(async () => (await app.GetJsonAsync("/_flowscope/api/stats")).GetProperty("storedTraces").GetInt64() == 5);
        JsonElement map = default;
        await Eventually.TrueAsync(async () =>
        {
            map = await app.GetJsonAsync("/_flowscope/api/map");
            return Edge(map, "endpoint:GET /nested", "custom:TestApp") is { } e && e.GetProperty("count").GetInt64() == 2;
        });

        Assert.Equal(5, Node(map, "server:server").GetProperty("count").GetInt64());
        Assert.Equal(3, Node(map, "endpoint:GET /hello/{id:int}").GetProperty("count").GetInt64());
        Assert.Equal(3, Edge(map, "middleware:EndpointRoutingMiddleware", "endpoint:GET /hello/{id:int}")!.Value.GetProperty("count").GetInt64());
        Assert.Equal(2, Edge(map, "middleware:EndpointRoutingMiddleware", "endpoint:GET /nested")!.Value.GetProperty("count").GetInt64());
        Assert.Equal(5, map.GetProperty("edges").EnumerateArray().Where(e => e.GetProperty("source").GetString() == "server:server").Sum(e => e.GetProperty("count").GetInt64()));
        Assert.Null(Edge(map, "custom:TestApp", "custom:TestApp")); // steps inside one component are not calls between components
        Assert.True(Node(map, "middleware:EndpointRoutingMiddleware").GetProperty("selfTimeP50Ms").GetDouble() >= 0);
        Assert.All(map.GetProperty("edges").EnumerateArray(), e => Assert.True(e.GetProperty("p95Ms").GetDouble() >= e.GetProperty("p50Ms").GetDouble()));
    }

    [Fact]
    public async Task A_span_that_ends_after_its_request_joins_the_stage_it_started_in()
    {
        // The span starts inside the endpoint and ends only after the request's trace is stored and mapped.
        Activity? late = null;
        await using var app = await TestApp.StartAsync(beforeFlowScope: a => a.MapGet("/late", async () =>
        {
            late = await Task.Run(() => TestApp.Source.StartActivity("late step"));
            return "started";
        }));

        await app.Client.GetStringAsync("/late");
        await Eventually.TrueAsync(async () => (await app.GetJsonAsync("/_flowscope/api/map")).GetProperty("nodes").EnumerateArray()
            .Any(n => n.GetProperty("id").GetString() == "endpoint:GET /late" && n.GetProperty("count").GetInt64() == 1));
        Assert.NotNull(late);
        late.Stop();

        JsonElement map = default;
        await Eventually.TrueAsync(async () => Edge(map = await app.GetJsonAsync("/_flowscope/api/map"), "endpoint:GET /late", "custom:TestApp") is not null);
        Assert.Equal(1, Edge(map, "endpoint:GET /late", "custom:TestApp")!.Value.GetProperty("count").GetInt64());
        Assert.Equal(0, map.GetProperty("overflow").GetInt64());
    }

    [Fact]
    public async Task Metrics_report_request_rate_latency_errors_and_in_flight()
    {
        await using var app = await TestApp.StartAsync();
        for (var i = 0; i < 4; i++)
        {
            await app.Client.GetStringAsync($"/hello/{i}");
        }

        await Assert.ThrowsAnyAsync<Exception>(() => app.Client.GetAsync("/boom"));

        JsonElement metrics = default;
        await Eventually.TrueAsync(async () => (metrics = await app.GetJsonAsync("/_flowscope/api/metrics")).GetProperty("requestsTotal").GetInt64() == 5);

        Assert.Equal(1, metrics.GetProperty("errorsTotal").GetInt64());
        Assert.Equal(0.2, metrics.GetProperty("errorRate").GetDouble(), 3);
        Assert.Equal(0, metrics.GetProperty("inFlight").GetInt64());
        Assert.True(metrics.GetProperty("requestsPerSecond").GetDouble() > 0);
        Assert.True(metrics.GetProperty("latencyP99Ms").GetDouble() >= metrics.GetProperty("latencyP50Ms").GetDouble());
    }

    private static JsonElement Node(JsonElement map, string id) =>
        map.GetProperty("nodes").EnumerateArray().Single(n => n.GetProperty("id").GetString() == id);

    private static JsonElement? Edge(JsonElement map, string source, string target)
    {
        foreach (var e in map.GetProperty("edges").EnumerateArray())
        {
            if (e.GetProperty("source").GetString() == source && e.GetProperty("target").GetString() == target)
            {
                return e;
            }
        }

        return null;
    }
}
