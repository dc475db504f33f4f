using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace FlowScope.Embedded.Testing.Tests;

public sealed class CaptureTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_capture_sees_its_own_requests_only()
    {
        await using var shop = await ShopApp.StartAsync();

        var mine = await shop.Client.GetAsync("/products", Cancel);
        var notMine = await shop.Uncaptured.GetAsync("/products", Cancel);
        var alsoMine = await shop.Client.GetAsync("/products/reviews", Cancel);

        Assert.Equal(2, shop.Capture.TraceIds.Count);
        var first = await shop.Capture.GetTraceAsync(mine, cancellationToken: Cancel);
        var last = await shop.Capture.GetLastTraceAsync(cancellationToken: Cancel);
        Assert.Equal(shop.Capture.TraceIds, [first.TraceId, last.TraceId]);
        Assert.Equal("GET /products/reviews", last.Root!.Name);
        Assert.Single(first.Spans, s => s.Kind == System.Diagnostics.ActivityKind.Server);
        Assert.Throws<ArgumentException>(() => { _ = shop.Capture.GetTraceAsync(notMine, cancellationToken: Cancel); });
        await shop.Capture.GetTraceAsync(alsoMine, cancellationToken: Cancel);
    }

    [Fact]
    public async Task A_trace_the_app_never_recorded_ends_the_wait_at_the_timeout_with_a_hint()
    {
        await using var shop = await ShopApp.StartAsync();

        var missing = await Assert.ThrowsAsync<TraceAssertionException>(() =>
            shop.Capture.GetTraceByIdAsync("0123456789abcdef0123456789abcdef", timeout: TimeSpan.FromMilliseconds(200), cancellationToken: Cancel));

        Assert.StartsWith("FlowScope recorded nothing of trace 0123456789abcdef0123456789abcdef within 200.0 ms.", missing.Message, StringComparison.Ordinal);
        Assert.Null(missing.Trace);
        Assert.Equal(TimeSpan.FromSeconds(10), TraceCapture.DefaultTimeout);
    }

    [Fact]
    public async Task An_app_without_AddFlowScopeTesting_is_refused_with_the_fix()
    {
        var builder = WebApplication.CreateBuilder();
        builder.Services.AddFlowScope();
        await using var app = builder.Build();

        var refused = Assert.Throws<InvalidOperationException>(() => TraceCapture.For(app.Services));
        Assert.Contains("call services.AddFlowScopeTesting() after AddFlowScope()", refused.Message, StringComparison.Ordinal);

        var early = Assert.Throws<InvalidOperationException>(() => new ServiceCollection().AddFlowScopeTesting());
        Assert.Contains("call services.AddFlowScope() before services.AddFlowScopeTesting()", early.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Adding_the_testing_services_twice_observes_the_store_once()
    {
        var services = new ServiceCollection().AddLogging().AddSingleton<Microsoft.Extensions.Configuration.IConfiguration>(new Microsoft.Extensions.Configuration.ConfigurationBuilder().Build());
        services.AddFlowScope();
        services.AddFlowScopeTesting().AddFlowScopeTesting();
        using var provider = services.BuildServiceProvider();

        var store = provider.GetRequiredService<FlowScope.Embedded.Storage.ITraceStore>();
        Assert.Equal("ObservedTraceStore", store.GetType().Name);
        Assert.Equal("InMemoryTraceStore", store.GetType().GetProperty("Inner")!.GetValue(store)!.GetType().Name);
        Assert.NotNull(TraceCapture.For(provider));
    }
}
