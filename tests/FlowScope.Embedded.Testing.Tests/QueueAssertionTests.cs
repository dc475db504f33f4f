namespace FlowScope.Embedded.Testing.Tests;

public sealed class QueueAssertionTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_handler_that_runs_after_the_response_is_awaited_and_the_hop_asserted()
    {
        await using var shop = await ShopApp.StartAsync();

        var response = await shop.Client.PostAsync("/orders", content: null, Cancel);
        Assert.Equal(System.Net.HttpStatusCode.Accepted, response.StatusCode);
        var trace = await shop.Capture.WaitForQueueHandledAsync(response, ShopApp.OrdersQueue, cancellationToken: Cancel);

        var handled = trace.AssertQueueHandled(ShopApp.OrdersQueue);
        Assert.Equal("ok", handled.GetAttribute("flowscope.queue.outcome"));
        trace.AssertNoErrors();
    }

    [Fact]
    public async Task A_handler_that_keeps_failing_is_reported_with_each_attempt()
    {
        await using var shop = await ShopApp.StartAsync();

        var response = await shop.Client.PostAsync("/orders?fail=true", content: null, Cancel);
        // Both attempts (MaxAttempts = 2) stored: the hop is over, unsuccessfully.
        var trace = await shop.Capture.GetTraceAsync(
            response,
            until: t => t.FindSpans("queue").Count(s => s.Kind == System.Diagnostics.ActivityKind.Consumer) == 2,
            cancellationToken: Cancel);

        var failed = Assert.Throws<TraceAssertionException>(() => trace.AssertQueueHandled(ShopApp.OrdersQueue));
        Assert.StartsWith("Expected the handler of queue 'orders' to succeed; its 2 attempts ended retry_scheduled, dead_lettered.", failed.Message, StringComparison.Ordinal);
        Assert.Contains("the warehouse refused the order", failed.Message, StringComparison.Ordinal);
        Assert.Throws<TraceAssertionException>(() => trace.AssertNoErrors());

        var other = Assert.Throws<TraceAssertionException>(() => trace.AssertQueueHandled("invoices"));
        Assert.StartsWith("Expected a message sent to queue 'invoices', found no producer span for it.", other.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Waiting_for_a_handler_that_never_succeeds_ends_at_the_timeout_and_says_why()
    {
        await using var shop = await ShopApp.StartAsync();

        var response = await shop.Client.PostAsync("/orders?fail=true", content: null, Cancel);
        var timedOut = await Assert.ThrowsAsync<TraceAssertionException>(() =>
            shop.Capture.WaitForQueueHandledAsync(response, ShopApp.OrdersQueue, timeout: TimeSpan.FromMilliseconds(500), cancellationToken: Cancel));

        Assert.Matches(@"^Trace [0-9a-f]{32} was not complete within 500\.0 ms: the condition did not hold\. Expected ", timedOut.Message);
        Assert.Contains("- POST /orders", timedOut.Message, StringComparison.Ordinal);
    }
}
