using System.Net;
using System.Text.Json;

namespace FlowScope.Embedded.IntegrationTests;

public sealed class ApiTests
{
    [Theory]
    [InlineData("status=maybe", "status")]
    [InlineData("limit=0", "limit")]
    [InlineData("minDurationMs=fast", "minDurationMs")]
    [InlineData("from=last-week", "from")]
    [InlineData("cursor=garbage", "cursor")]
    [InlineData("sort=up", "sort")]
    [InlineData("colour=red", "colour")]
    public async Task A_bad_parameter_gets_400_problem_details_naming_it(string query, string parameter)
    {
        await using var app = await TestApp.StartAsync();

        using var response = await app.Client.GetAsync("/_flowscope/api/traces?" + query);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(400, problem.GetProperty("status").GetInt32());
        Assert.Equal(parameter, problem.GetProperty("parameter").GetString());
        Assert.Contains(parameter, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_trace_is_404_and_a_malformed_id_is_400()
    {
        await using var app = await TestApp.StartAsync();

        using var unknown = await app.Client.GetAsync("/_flowscope/api/traces/" + new string('a', 32));
        using var malformed = await app.Client.GetAsync("/_flowscope/api/traces/not-a-trace-id");

        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("application/problem+json", unknown.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.Contains("traceId", await malformed.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_trace_list_filters_and_pages_through_the_API()
    {
        await using var app = await TestApp.StartAsync();
        for (var i = 0; i < 7; i++)
        {
            await app.Client.GetStringAsync($"/hello/{i}");
        }

        await app.Client.GetAsync("/teapot");
        await Eventually.TrueAsync(async () => (await app.GetJsonAsync("/_flowscope/api/stats")).GetProperty("storedTraces").GetInt64() == 8);

        var ids = new List<string>();
        string? cursor = null;
        do
        {
            var page = await app.GetJsonAsync("/_flowscope/api/traces?name=hello&limit=3" + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor)));
            ids.AddRange(page.GetProperty("traces").EnumerateArray().Select(t => t.GetProperty("traceId").GetString()!));
            cursor = page.GetProperty("nextCursor").GetString();
        }
        while (cursor is not null);

        Assert.Equal(7, ids.Count);
        Assert.Equal(7, ids.Distinct().Count());

        var teapot = await app.GetJsonAsync("/_flowscope/api/traces?q=teapot");
        var only = Assert.Single(teapot.GetProperty("traces").EnumerateArray());
        Assert.Equal(418, only.GetProperty("statusCode").GetInt32());
        Assert.Equal("ok", only.GetProperty("status").GetString());
        Assert.Empty((await app.GetJsonAsync("/_flowscope/api/traces?status=error")).GetProperty("traces").EnumerateArray());
    }

    [Fact]
    public async Task Stats_report_capture_storage_and_uptime()
    {
        await using var app = await TestApp.StartAsync();
        await app.Client.GetStringAsync("/nested");
        var trace = await app.WaitForTraceAsync(t => t.Route == "/nested" && t.Components.Contains("custom"));

        var stats = await app.GetJsonAsync("/_flowscope/api/stats");

        // Every span counts: the request, its stages and the two custom steps.
        Assert.Equal(trace.SpanCount, stats.GetProperty("captured").GetInt64());
        Assert.Equal(trace.SpanCount, stats.GetProperty("storedSpans").GetInt64());
        Assert.Equal(0, stats.GetProperty("dropped").GetInt64());
        Assert.Equal(1, stats.GetProperty("storedTraces").GetInt64());
        Assert.Equal(0, stats.GetProperty("evictedTraces").GetInt64());
        Assert.Equal(FlowScopeOptions.DefaultBufferCapacity, stats.GetProperty("bufferCapacity").GetInt32());
        Assert.True(stats.GetProperty("uptimeSeconds").GetDouble() >= 0);
    }

    [Fact]
    public async Task Routes_say_how_much_was_seen_and_kept_and_the_list_filters_by_why_a_trace_is_kept()
    {
        await using var app = await TestApp.StartAsync();
        for (var i = 0; i < 3; i++)
        {
            await app.Client.GetStringAsync("/hello/" + i);
        }

        await Eventually.TrueAsync(async () => (await app.Store.QueryAsync(new Storage.TraceQuery { Name = "/hello" })).Traces.Count == 3);

        var routes = await app.GetJsonAsync("/_flowscope/api/routes");
        var hello = routes.GetProperty("routes").EnumerateArray().Single(r => r.GetProperty("route").GetString() == "GET /hello/{id:int}");
        Assert.Equal(3, hello.GetProperty("seen").GetInt64());
        Assert.Equal(3, hello.GetProperty("kept").GetInt32());

        var recent = await app.GetJsonAsync("/_flowscope/api/traces?kept=recent");
        Assert.Equal(3, recent.GetProperty("traces").GetArrayLength());
        Assert.All(recent.GetProperty("traces").EnumerateArray(), t => Assert.Equal("recent", t.GetProperty("keptBecause").GetString()));
        Assert.Equal(0, (await app.GetJsonAsync("/_flowscope/api/traces?kept=error")).GetProperty("traces").GetArrayLength());

        using var bad = await app.Client.GetAsync("/_flowscope/api/traces?kept=forever");
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("kept", await bad.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
