namespace FlowScope.Embedded.Testing.Tests;

public sealed class DatabaseAssertionTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Counting_database_commands_passes_on_the_right_count_and_shows_the_statements_when_wrong()
    {
        await using var shop = await ShopApp.StartAsync();

        var response = await shop.Client.GetAsync("/products", Cancel);
        response.EnsureSuccessStatusCode();
        var trace = await shop.Capture.GetTraceAsync(response, cancellationToken: Cancel);

        trace.AssertDatabaseCommands(1).AssertAtMostDatabaseCommands(1).AssertAtMostDatabaseCommands(5);
        var wrong = Assert.Throws<TraceAssertionException>(() => trace.AssertDatabaseCommands(3));
        Assert.StartsWith("Expected 3 database commands, found 1.", wrong.Message, StringComparison.Ordinal);
        Assert.Contains("[database]", wrong.Message, StringComparison.Ordinal);
        Assert.Contains("SELECT", wrong.Message, StringComparison.Ordinal);
        Assert.Same(trace, wrong.Trace);
    }

    [Fact]
    public async Task At_most_fails_on_an_N_plus_one_request_naming_the_count()
    {
        await using var shop = await ShopApp.StartAsync();

        var trace = await shop.Capture.GetTraceAsync(await shop.Client.GetAsync("/products/reviews-one-by-one", Cancel), cancellationToken: Cancel);

        trace.AssertAtMostDatabaseCommands(1 + ShopApp.ProductCount);
        var tooMany = Assert.Throws<TraceAssertionException>(() => trace.AssertAtMostDatabaseCommands(2));
        Assert.StartsWith($"Expected at most 2 database commands, found {1 + ShopApp.ProductCount}.", tooMany.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task No_N_plus_one_passes_on_the_fixed_query_and_fails_on_the_loop_showing_the_repeated_statement()
    {
        await using var shop = await ShopApp.StartAsync();

        var fixedTrace = await shop.Capture.GetTraceAsync(await shop.Client.GetAsync("/products/reviews", Cancel), cancellationToken: Cancel);
        var loopTrace = await shop.Capture.GetTraceAsync(await shop.Client.GetAsync("/products/reviews-one-by-one", Cancel), cancellationToken: Cancel);

        fixedTrace.AssertNoNPlusOne().AssertDatabaseCommands(1);
        loopTrace.AssertNPlusOne();

        var marked = Assert.Throws<TraceAssertionException>(() => loopTrace.AssertNoNPlusOne());
        Assert.StartsWith($"Expected no N+1 mark, but one statement ran {ShopApp.ProductCount} times", marked.Message, StringComparison.Ordinal);
        Assert.Contains($"N+1: ×{ShopApp.ProductCount}", marked.Message, StringComparison.Ordinal);
        Assert.Contains("Reviews", marked.Message, StringComparison.Ordinal);

        var notMarked = Assert.Throws<TraceAssertionException>(() => fixedTrace.AssertNPlusOne());
        Assert.StartsWith("Expected an N+1 mark, but no statement repeated often enough.", notMarked.Message, StringComparison.Ordinal);
    }
}
