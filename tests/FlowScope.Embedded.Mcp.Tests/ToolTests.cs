using FlowScope.Embedded.Storage;
using ModelContextProtocol.Client;

namespace FlowScope.Embedded.Mcp.Tests;

/// <summary>Each tool, called through the SDK's client over streamable HTTP, answers for traffic the app really served.</summary>
public sealed class ToolTests : IAsyncLifetime
{
    private const string Secret = "secret-value-123";
    private const string HeaderSecret = "header-secret-456";

    private McpTestApp _app = null!;
    private McpClient _client = null!;

    public async Task InitializeAsync()
    {
        _app = await McpTestApp.StartAsync();
        for (var id = 1; id <= 3; id++)
        {
            await _app.GetAsync($"/orders/{id}");
        }

        await _app.GetAsync("/boom");
        await _app.GetAsync("/slow");
        await _app.GetAsync("/orders/5/lines");
        await _app.GetAsync("/batch");
        await _app.GetAsync($"/search?q=shoes&token={Secret}", ("Authorization", $"Bearer {HeaderSecret}"), ("X-Api-Key", HeaderSecret));
        await _app.WaitForTraceAsync(t => t.Name.Contains("/search", StringComparison.Ordinal), "the last request's trace is stored");
        await _app.WaitForTraceAsync(t => t.NPlusOne > 0, "the N+1 marks are summed into the trace");
        _client = await _app.ConnectAsync();
    }

    public async Task DisposeAsync()
    {
        await _client.DisposeAsync();
        await _app.DisposeAsync();
    }

    [Fact]
    public async Task Lists_its_tools_as_read_only()
    {
        var tools = await _client.ListToolsAsync();

        Assert.Equal(
            ["find_errors", "find_n_plus_one", "find_slow_spans", "find_slow_traces", "get_metrics", "get_trace", "list_traces"],
            tools.Select(t => t.Name).Order(StringComparer.Ordinal));
        Assert.All(tools, t => Assert.True(t.ProtocolTool.Annotations?.ReadOnlyHint));
        Assert.All(tools, t => Assert.False(string.IsNullOrWhiteSpace(t.Description)));
    }

    [Fact]
    public async Task List_traces_filters_and_states_its_cap()
    {
        var all = (await _client.CallToolAsync("list_traces")).Text();
        Assert.Contains("showing all 8", all, StringComparison.Ordinal);
        Assert.Contains("GET /orders/{id:int} → 200", all, StringComparison.Ordinal);

        var capped = (await _client.CallToolAsync("list_traces", new Dictionary<string, object?> { ["limit"] = 2 })).Text();
        Assert.Contains("showing 2 of 8 (capped at 2)", capped, StringComparison.Ordinal);
        Assert.Equal(2, Lines(capped).Count(l => l.StartsWith("- ", StringComparison.Ordinal)));

        var errors = (await _client.CallToolAsync("list_traces", new Dictionary<string, object?> { ["status"] = "error" })).Text();
        Assert.Contains("showing all 1", errors, StringComparison.Ordinal);
        Assert.Contains("GET /boom → 500", errors, StringComparison.Ordinal);

        var slow = (await _client.CallToolAsync("list_traces", new Dictionary<string, object?> { ["minDurationMs"] = 200 })).Text();
        Assert.Contains("GET /slow", slow, StringComparison.Ordinal);
        Assert.DoesNotContain("GET /orders", slow, StringComparison.Ordinal);

        var named = (await _client.CallToolAsync("list_traces", new Dictionary<string, object?> { ["name"] = "orders", ["nPlusOne"] = true })).Text();
        Assert.Contains("showing all 1", named, StringComparison.Ordinal);
        Assert.Contains("N+1 (a statement ran 6 times)", named, StringComparison.Ordinal);
        Assert.Contains("7 db commands", named, StringComparison.Ordinal);

        var bad = await _client.CallToolAsync("list_traces", new Dictionary<string, object?> { ["kind"] = "banana" });
        Assert.True(bad.IsError);
        Assert.Contains("kind must be one of http", bad.Text(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Get_trace_shows_the_spans_as_a_tree_with_durations_and_errors()
    {
        var slow = await TraceOf("/slow");
        var text = (await _client.CallToolAsync("get_trace", new Dictionary<string, object?> { ["traceId"] = slow.TraceId })).Text();

        var lines = Lines(text);
        var root = lines.Single(l => l.StartsWith("- GET /slow [server]", StringComparison.Ordinal));
        var child = lines.Single(l => l.Contains("- price the basket [custom]", StringComparison.Ordinal));
        Assert.True(Indent(child) > Indent(root), text);
        Assert.Matches(@"price the basket \[custom\] \d{3,}(\.\d+)? ms \+", child);

        var boom = await TraceOf("/boom");
        var failed = (await _client.CallToolAsync("get_trace", new Dictionary<string, object?> { ["traceId"] = boom.TraceId })).Text();
        Assert.Contains("ERROR", failed, StringComparison.Ordinal);
        Assert.Contains("System.InvalidOperationException: The order could not be found.", failed, StringComparison.Ordinal);

        var capped = (await _client.CallToolAsync("get_trace", new Dictionary<string, object?> { ["traceId"] = slow.TraceId, ["maxSpans"] = 1 })).Text();
        Assert.Contains($"showing 1 of {slow.SpanCount} (capped at 1)", capped, StringComparison.Ordinal);

        var missing = await _client.CallToolAsync("get_trace", new Dictionary<string, object?> { ["traceId"] = new string('a', 32) });
        Assert.True(missing.IsError);
        Assert.Contains("may have been evicted", missing.Text(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Get_trace_folds_alike_leaves_and_keeps_statements_on_one_line()
    {
        var batch = await TraceOf("/batch");
        var text = (await _client.CallToolAsync("get_trace", new Dictionary<string, object?> { ["traceId"] = batch.TraceId })).Text();

        var lines = Lines(text);
        var folded = Assert.Single(lines, l => l.Contains("- SELECT Stock [custom] ×6, ", StringComparison.Ordinal));
        Assert.True(Indent(folded) > Indent(lines.Single(l => l.Contains("- check stock [custom]", StringComparison.Ordinal))), text);
        Assert.Single(lines, l => l.Contains("statement: SELECT s.Count FROM Stock AS s WHERE s.Sku = @sku", StringComparison.Ordinal));
        Assert.Contains($"showing all {batch.SpanCount}", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Find_errors_names_the_failed_span_and_its_message()
    {
        var boom = await TraceOf("/boom");
        var text = (await _client.CallToolAsync("find_errors")).Text();

        Assert.Contains("showing all 1", text, StringComparison.Ordinal);
        Assert.Contains(boom.TraceId, text, StringComparison.Ordinal);
        Assert.Contains("error span:", text, StringComparison.Ordinal);
        Assert.Contains("The order could not be found.", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Find_slow_traces_and_spans_put_the_slow_route_and_its_slow_step_first()
    {
        var traces = (await _client.CallToolAsync("find_slow_traces", new Dictionary<string, object?> { ["limit"] = 3 })).Text();
        Assert.Contains("showing 3 of 8 (capped at 3)", traces, StringComparison.Ordinal);
        Assert.StartsWith("- ", Lines(traces)[1], StringComparison.Ordinal);
        Assert.Contains("GET /slow", Lines(traces)[1], StringComparison.Ordinal);

        var spans = (await _client.CallToolAsync("find_slow_spans", new Dictionary<string, object?> { ["route"] = "/slow" })).Text();
        var first = Lines(spans).First(l => l.StartsWith("- ", StringComparison.Ordinal));
        Assert.True(first.Contains("price the basket [custom] self max", StringComparison.Ordinal), spans);
        Assert.Contains((await TraceOf("/slow")).TraceId, first, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Find_n_plus_one_shows_the_repeated_statement()
    {
        var lines = await TraceOf("/lines");
        var text = (await _client.CallToolAsync("find_n_plus_one")).Text();

        Assert.Contains("showing all 1", text, StringComparison.Ordinal);
        Assert.Contains(lines.TraceId, text, StringComparison.Ordinal);
        Assert.Contains(
            "repeated 6 times (4.5 ms in all) by load order lines [custom]: SELECT l.Id, l.Sku FROM Lines AS l WHERE l.OrderId = ?",
            text,
            StringComparison.Ordinal);

        var tree = (await _client.CallToolAsync("get_trace", new Dictionary<string, object?> { ["traceId"] = lines.TraceId })).Text();
        Assert.Contains("N+1: SELECT l.Id, l.Sku FROM Lines AS l WHERE l.OrderId = ? ran 6 times, 4.5 ms in all", tree, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Get_metrics_reads_what_the_dashboard_shows()
    {
        var text = (await _client.CallToolAsync("get_metrics")).Text();

        Assert.Contains("HTTP requests (connections excluded):", text, StringComparison.Ordinal);
        Assert.Matches(@" 8 in all,", text);
        Assert.Contains("- http:", text, StringComparison.Ordinal);
        Assert.True(text.Contains("- GET /orders/{id:int}/lines: 1, 7/7, 1, 0,", StringComparison.Ordinal), text);
        Assert.True(text.Contains("- GET /boom: 1, 1: ", StringComparison.Ordinal), text);
        Assert.Contains("store holds 8 traces", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task No_answer_reveals_a_secret_query_parameter()
    {
        var search = await TraceOf("/search");
        var answers = new List<string>();
        foreach (var (tool, args) in new (string, Dictionary<string, object?>?)[]
        {
            ("list_traces", null),
            ("list_traces", new() { ["text"] = "token" }),
            ("list_traces", new() { ["text"] = Secret }),
            ("get_trace", new() { ["traceId"] = search.TraceId }),
            ("find_errors", null),
            ("find_slow_traces", new() { ["limit"] = 100 }),
            ("find_slow_spans", new() { ["route"] = "search" }),
            ("find_n_plus_one", null),
            ("get_metrics", null),
        })
        {
            answers.Add((await _client.CallToolAsync(tool, args)).Text());
        }

        Assert.All(answers, a => Assert.DoesNotContain(Secret, a, StringComparison.Ordinal));
        Assert.All(answers, a => Assert.DoesNotContain(HeaderSecret, a, StringComparison.Ordinal));

        // The text search reads the redacted values too: it cannot be used to guess a secret.
        Assert.Contains("showing all 0", answers[2], StringComparison.Ordinal);
        Assert.Contains("token=[REDACTED]", answers[3], StringComparison.Ordinal);
        Assert.Contains("q=shoes", answers[3], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Its_own_requests_are_not_traced()
    {
        await _client.CallToolAsync("get_metrics");
        await _app.GetAsync("/orders/9");
        await _app.WaitForTraceAsync(t => t.Route is not null && t.Name.Contains("/orders/", StringComparison.Ordinal) && t.StartTime > DateTimeOffset.UtcNow.AddSeconds(-30) && t.Version > 0, "a later request is stored");

        var page = await _app.Store.QueryAsync(new TraceQuery { Name = "mcp", Limit = TraceQuery.MaxLimit });
        Assert.Empty(page.Traces);
    }

    private async Task<TraceSummary> TraceOf(string path)
    {
        var page = await _app.Store.QueryAsync(new TraceQuery { Name = path, Limit = TraceQuery.MaxLimit });
        return Assert.Single(page.Traces);
    }

    private static string[] Lines(string text) => text.ReplaceLineEndings("\n").Split('\n', StringSplitOptions.RemoveEmptyEntries);

    private static int Indent(string line) => line.Length - line.TrimStart(' ').Length;
}
