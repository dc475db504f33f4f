using System.Text.Json;

namespace FlowScope.Embedded.BrowserTests;

/// <summary>
/// The dashboard computes a trace's summary itself only for traces it did not get from the server (an imported file).
/// Given the spans of captured traces, its summary must say what the server's says.
/// </summary>
[Collection(BrowserSuite.Name)]
public sealed class SummaryParityTests(BrowserFixture fixture)
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(50);

    [Fact]
    public async Task The_dashboards_summary_of_a_traces_spans_matches_the_servers()
    {
        await using var app = await BrowserTestApp.StartAsync();
        string[] paths = ["/hello/1", "/nested", "/boom", "/orders/7", "/signup/3", "/signup/4?fail=true", "/slow"];
        foreach (var path in paths)
        {
            await app.Client.GetAsync(path);
        }

        // The queue handlers finish after the responses: wait until both message traces have their handler spans.
        List<JsonElement> summaries = [];
        await WaitUntilAsync(async () =>
        {
            using var list = JsonDocument.Parse(await app.Client.GetStringAsync("/_flowscope/api/traces?limit=100"));
            summaries = list.RootElement.GetProperty("traces").EnumerateArray().Select(t => t.Clone()).ToList();
            return paths.All(p => summaries.Any(s => s.GetProperty("name").GetString()!.Contains(p.Split('/', '?')[1], StringComparison.Ordinal)))
                && summaries.Count(s => s.GetProperty("name").GetString()!.Contains("signup", StringComparison.Ordinal) && s.GetProperty("components").EnumerateArray().Any(c => c.GetString() == "queue")) >= 2;
        }, TimeSpan.FromSeconds(30), "every request's trace is listed, the messages with their handlers");

        await using var d = await DashboardPage.OpenAsync(fixture, app.Dashboard);
        await d.WaitLiveAsync();
        foreach (var server in summaries)
        {
            var traceId = server.GetProperty("traceId").GetString()!;
            var detail = await app.Client.GetStringAsync($"/_flowscope/api/traces/{traceId}");
            var client = await d.Page.EvaluateAsync<JsonElement>(
                "async ([id, detail]) => { const m = await import('./model.js'); return m.summarize(id, JSON.parse(detail).spans); }",
                new object[] { traceId, detail });

            var name = server.GetProperty("name").GetString();
            foreach (var field in new[] { "name", "status", "route", "method", "kind", "instance" })
            {
                Assert.True(Text(server, field) == Text(client, field), $"{name}: {field} is '{Text(server, field)}' on the server, '{Text(client, field)}' in the dashboard");
            }

            foreach (var field in new[] { "spanCount", "errorCount", "statusCode", "databaseCount", "nPlusOne", "duplicateQueries" })
            {
                Assert.True(Number(server, field) == Number(client, field), $"{name}: {field} is {Number(server, field)} on the server, {Number(client, field)} in the dashboard");
            }

            Assert.Equal(Components(server), Components(client));
            Assert.InRange(client.GetProperty("durationMs").GetDouble(), server.GetProperty("durationMs").GetDouble() - 0.01, server.GetProperty("durationMs").GetDouble() + 0.01);
        }

        d.AssertNoErrors();
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Not within {timeout.TotalSeconds} s: {what}");
            await Task.Delay(PollInterval);
        }
    }

    private static string? Text(JsonElement e, string field) =>
        e.TryGetProperty(field, out var v) && v.ValueKind != JsonValueKind.Null ? v.ToString() : null;

    private static double? Number(JsonElement e, string field) =>
        e.TryGetProperty(field, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;

    private static string Components(JsonElement e) =>
        string.Join(",", e.GetProperty("components").EnumerateArray().Select(c => c.GetString()).Order(StringComparer.Ordinal));
}
