using FlowScope.Embedded.Storage;

namespace FlowScope.Embedded.Testing.Tests;

public sealed class SpanAssertionTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_span_of_a_component_is_found_or_its_absence_is_reported_with_the_trace()
    {
        await using var shop = await ShopApp.StartAsync();

        var trace = await shop.Capture.GetTraceAsync(await shop.Client.GetAsync("/products", Cancel), cancellationToken: Cancel);

        var command = trace.AssertSpan(SpanComponents.Database);
        Assert.Equal("sqlite", command.GetAttribute("db.system.name"));
        var missing = Assert.Throws<TraceAssertionException>(() => trace.AssertSpan(SpanComponents.Queue));
        Assert.StartsWith("Expected a span of component 'queue', found none.", missing.Message, StringComparison.Ordinal);
        var named = Assert.Throws<TraceAssertionException>(() => trace.AssertSpan(SpanComponents.Database, "DELETE Products"));
        Assert.StartsWith("Expected a span 'DELETE Products' of component 'database', found none.", named.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task No_errors_passes_on_a_good_request_and_names_the_failed_span_otherwise()
    {
        await using var shop = await ShopApp.StartAsync();

        var good = await shop.Capture.GetTraceAsync(await shop.Client.GetAsync("/products", Cancel), cancellationToken: Cancel);
        var failed = await shop.Capture.GetTraceAsync(await shop.Client.GetAsync("/fail", Cancel), cancellationToken: Cancel);

        good.AssertNoErrors();
        var error = Assert.Throws<TraceAssertionException>(() => failed.AssertNoErrors());
        Assert.StartsWith("Expected no error span, found ", error.Message, StringComparison.Ordinal);
        Assert.Contains("error", error.Message, StringComparison.Ordinal);
        Assert.Contains("the price service is down", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_duration_bound_holds_for_the_request_and_a_tighter_one_reports_the_duration()
    {
        await using var shop = await ShopApp.StartAsync();

        var trace = await shop.Capture.GetTraceAsync(await shop.Client.GetAsync("/products", Cancel), cancellationToken: Cancel);

        trace.AssertDurationAtMost(TimeSpan.FromMinutes(1));
        var slow = Assert.Throws<TraceAssertionException>(() => trace.AssertDurationAtMost(TimeSpan.FromTicks(1)));
        Assert.Matches(@"^Expected 'GET /products' to take at most 0\.00 ms, it took \d+\.\d+ ms\.", slow.Message);
    }

    [Fact]
    public async Task The_trace_reads_as_an_indented_tree_with_component_duration_status_and_statement()
    {
        await using var shop = await ShopApp.StartAsync();

        var trace = await shop.Capture.GetTraceAsync(await shop.Client.GetAsync("/products", Cancel), cancellationToken: Cancel);
        var lines = trace.ToString().Split(Environment.NewLine);

        Assert.Matches(@"^Trace [0-9a-f]{32}: GET /products, \d+\.\d+ ms, \d+ spans, 1 database commands$", lines[0]);
        Assert.Matches(@"^- GET /products  \[server\]  \d+\.\d+ ms  200$", lines[1]);
        var command = Assert.Single(lines, l => l.Contains("[database]", StringComparison.Ordinal));
        Assert.Matches(@"^ {2,}- SELECT Products  \[database\]  \d+\.\d+ ms  ok  \| SELECT ", command);
    }
}
