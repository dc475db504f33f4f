using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.DependencyInjection;

namespace FlowScope.Embedded.IntegrationTests.Privacy;

/// <summary>
/// In flight counts the app's requests running now, exactly, wherever the dashboard is served from: under
/// <c>UsePathBase</c>, mapped inside a branch, behind a proxy that strips its prefix.
/// </summary>
public sealed class InFlightTests
{
    private static async Task<long> InFlightAsync(HttpClient client, string dashboard)
    {
        using var metrics = JsonDocument.Parse(await client.GetStringAsync(dashboard + "/api/metrics"));
        return metrics.RootElement.GetProperty("inFlight").GetInt64();
    }

    /// <summary>Holds one app request open, browses the dashboard, releases it: in flight reads 1 throughout, then 0.</summary>
    private static async Task AssertExactAsync(HttpClient client, string dashboard, TaskCompletionSource release, string holdPath = "/hold")
    {
        Assert.Equal(0, await InFlightAsync(client, dashboard));
        var held = client.GetStringAsync(holdPath);
        await Eventually.TrueAsync(async () => await InFlightAsync(client, dashboard) == 1, because: "the held request is in flight");

        foreach (var api in new[] { "stats", "traces", "map", "metrics", "operator", "faults", "nothing-here" })
        {
            using var response = await client.GetAsync($"{dashboard}/api/{api}");
            Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.NotFound, $"{api}: {(int)response.StatusCode}");
        }

        using (var page = await client.GetAsync(dashboard + "/"))
        {
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        }

        Assert.Equal(1, await InFlightAsync(client, dashboard));
        release.SetResult();
        Assert.Equal("held", await held);
        await Eventually.TrueAsync(async () => await InFlightAsync(client, dashboard) == 0, because: "the held request ended");
        Assert.Equal(0, await InFlightAsync(client, dashboard));
    }

    private static void MapHold(WebApplication app, TaskCompletionSource release) =>
        app.MapGet("/hold", async () =>
        {
            await release.Task;
            return "held";
        });

    [Fact]
    public async Task Under_UsePathBase()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var app = await TestApp.StartAsync(beforeFlowScope: a =>
        {
            a.UsePathBase("/tools");
            MapHold(a, release);
        });

        await AssertExactAsync(app.Client, "/tools/_flowscope", release, "/tools/hold");
    }

    [Fact]
    public async Task With_MapFlowScope_inside_a_branch_of_the_app()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var app = await TestApp.StartAsync(beforeFlowScope: a =>
        {
            MapHold(a, release);
            a.Map("/ops", branch =>
            {
                branch.UseRouting();
                branch.UseEndpoints(e => e.MapFlowScope("/flow"));
            });
        });

        await AssertExactAsync(app.Client, "/ops/flow", release);
        Assert.Equal(HttpStatusCode.OK, (await app.Client.GetAsync("/_flowscope/api/stats")).StatusCode); // UseFlowScope's own, too
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Behind_a_proxy_that_strips_its_prefix(bool forwardedHeaders)
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var app = await TestApp.StartAsync(
            configureBuilder: b => b.Services.Configure<ForwardedHeadersOptions>(o => o.ForwardedHeaders = ForwardedHeaders.XForwardedPrefix),
            beforeFlowScope: a =>
            {
                if (forwardedHeaders)
                {
                    a.UseForwardedHeaders();
                }

                MapHold(a, release);
            });

        // The proxy serves https://host/proxy/… and forwards /_flowscope/… with the prefix it removed.
        app.Client.DefaultRequestHeaders.Add("X-Forwarded-Prefix", "/proxy");
        await AssertExactAsync(app.Client, "/_flowscope", release);

        // The dashboard path without its slash redirects relatively: the browser stays under the proxy's prefix.
        using var redirect = await app.Client.GetAsync("/_flowscope?view=map");
        Assert.Equal(HttpStatusCode.Redirect, redirect.StatusCode);
        Assert.Equal("/proxy/_flowscope/?view=map", new Uri(new Uri("https://host.example/proxy/_flowscope?view=map"), redirect.Headers.Location!).PathAndQuery);
    }
}
