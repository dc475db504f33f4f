using System.Net;

namespace FlowScope.Embedded.IntegrationTests;

public sealed class LiveStreamTests
{
    [Fact]
    public async Task A_new_connection_is_hydrated_and_then_receives_new_traces()
    {
        await using var app = await TestApp.StartAsync();
        await app.Client.GetStringAsync("/hello/1");
        var first = await app.WaitForTraceAsync(t => t.Name == "GET /hello/{id:int}");

        await using var stream = await SseClient.ConnectAsync(app.Client, "/_flowscope/api/stream");
        Assert.Equal("text/event-stream", stream.Response.Content.Headers.ContentType?.MediaType);

        var hydrate = await stream.ReadUntilAsync(e => e.Name == "hydrate");
        Assert.Contains(first.TraceId, hydrate.TraceIds());

        await app.Client.GetStringAsync("/nested");
        var update = await stream.ReadUntilAsync(e => e.Name == "traces" && e.Traces().Any(t => t.GetProperty("name").GetString() == "GET /nested"));
        Assert.NotNull(update.Id);
    }

    [Fact]
    public async Task A_reconnecting_client_resumes_from_Last_Event_ID_without_losing_traces()
    {
        await using var app = await TestApp.StartAsync();
        string lastId;
        await using (var stream = await SseClient.ConnectAsync(app.Client, "/_flowscope/api/stream"))
        {
            lastId = (await stream.ReadUntilAsync(e => e.Name == "hydrate")).Id!;
        }

        // Traffic while the client is away.
        for (var i = 0; i < 3; i++)
        {
            await app.Client.GetStringAsync($"/hello/{i}");
        }

        await Eventually.TrueAsync(async () => (await app.GetJsonAsync("/_flowscope/api/stats")).GetProperty("storedTraces").GetInt64() == 3);

        await using var resumed = await SseClient.ConnectAsync(app.Client, "/_flowscope/api/stream", lastEventId: lastId);
        var missed = new HashSet<string>();
        var first = await resumed.ReadUntilAsync(e => e.Name is "traces" or "hydrate");
        Assert.Equal("traces", first.Name);
        foreach (var id in first.TraceIds())
        {
            missed.Add(id);
        }

        while (missed.Count < 3)
        {
            var next = await resumed.ReadUntilAsync(e => e.Name == "traces");
            missed.UnionWith(next.TraceIds());
        }

        Assert.Equal(3, missed.Count);
    }

    [Fact]
    public async Task A_late_span_sends_the_trace_again_with_its_new_span_count()
    {
        await using var app = await TestApp.StartAsync();
        await using var stream = await SseClient.ConnectAsync(app.Client, "/_flowscope/api/stream");
        await stream.ReadUntilAsync(e => e.Name == "hydrate");

        System.Diagnostics.ActivityContext requestContext = default;
        using (var root = TestApp.Source.StartActivity("job", System.Diagnostics.ActivityKind.Internal))
        {
            requestContext = root!.Context;
        }

        await stream.ReadUntilAsync(e => e.Name == "traces" && e.Traces().Any(t => t.GetProperty("traceId").GetString() == requestContext.TraceId.ToHexString() && t.GetProperty("spanCount").GetInt32() == 1));

        using (TestApp.Source.StartActivity("late handler", System.Diagnostics.ActivityKind.Consumer, requestContext))
        {
        }

        var update = await stream.ReadUntilAsync(e => e.Name == "traces" && e.Traces().Any(t => t.GetProperty("traceId").GetString() == requestContext.TraceId.ToHexString()));
        var trace = update.Traces().Single(t => t.GetProperty("traceId").GetString() == requestContext.TraceId.ToHexString());
        Assert.Equal(2, trace.GetProperty("spanCount").GetInt32());
    }

    [Fact]
    public async Task Connections_beyond_the_limit_get_429()
    {
        await using var app = await TestApp.StartAsync(new() { ["FlowScope:MaxLiveSubscribers"] = "1" });
        await using var first = await SseClient.ConnectAsync(app.Client, "/_flowscope/api/stream");
        await first.ReadUntilAsync(e => e.Name == "hydrate");

        using var second = await app.Client.GetAsync("/_flowscope/api/stream", HttpCompletionOption.ResponseHeadersRead);

        Assert.Equal(HttpStatusCode.TooManyRequests, second.StatusCode);
    }
}
