using System.Net;
using Microsoft.Extensions.DependencyInjection;

namespace FlowScope.Embedded.IntegrationTests.Hosting;

/// <summary>An exception the app's own error handling catches carries the app's frames only, none of FlowScope's.</summary>
public sealed class StackTraceTests
{
    private static void AssertNoFlowScopeFrame(Exception exception)
    {
        var text = exception.ToString();
        var frames = text.Split('\n').Select(l => l.Trim()).Where(l => l.StartsWith("at ", StringComparison.Ordinal)).Select(l => l.Split(" in ")[0]).ToArray();
        Assert.DoesNotContain(frames, f => f.StartsWith("at FlowScope.Embedded.", StringComparison.Ordinal) && !f.StartsWith("at FlowScope.Embedded.IntegrationTests.", StringComparison.Ordinal));
        Assert.Contains(frames, f => f.StartsWith("at FlowScope.Embedded.IntegrationTests.", StringComparison.Ordinal)); // the app's own frames are there
    }

    [Theory]
    [InlineData("/shop/orders/broken", "GET shop/orders/broken", "The order book is closed.")] // controller action (MVC filter, endpoint stage)
    [InlineData("/boom", "GET /boom", "The minimal API failed.")] // minimal API endpoint
    [InlineData("/flaky/sync", "GET /flaky/sync", "The flaky middleware failed at once.")] // a middleware that throws before returning a task
    [InlineData("/flaky/async", "GET /flaky/async", "The flaky middleware failed later.")] // a middleware whose task fails
    public async Task An_exception_caught_by_the_app_has_no_FlowScope_frame(string path, string traceName, string message)
    {
        await using var app = await HostingApp.StartAsync();
        using var response = await app.Client.GetAsync(path);
        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);

        var caught = Assert.Single(app.Caught.All);
        Assert.Equal(message, caught.Message);
        AssertNoFlowScopeFrame(caught);

        // FlowScope still saw it: the trace is an error with the exception on the stage that threw it.
        var trace = await app.WaitForTraceAsync(t => t.Str("name") == traceName, traceName);
        Assert.Equal("error", trace.Str("status"));
        var spans = await app.SpansAsync(trace);
        Assert.Contains(spans, s => s.GetProperty("events").EnumerateArray().Any(e => e.Str("name") == "exception"));
    }

    [Fact]
    public async Task Without_endpoint_routing_an_action_exception_has_no_FlowScope_frame()
    {
        await using var app = await NamingTests.LegacyHost.StartAsync();
        using var response = await app.Client.GetAsync("/legacy/articles/broken");
        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        var caught = Assert.Single(app.Services.GetRequiredService<CaughtExceptions>().All);
        Assert.Equal("The article store is offline.", caught.Message);
        AssertNoFlowScopeFrame(caught);

        var trace = await app.WaitForAsync("GET legacy/articles/{slug}");
        Assert.Equal("error", trace.Str("status"));
    }
}
