using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FlowScope.Embedded.IntegrationTests.Privacy;

/// <summary>The app's CORS policy, whatever it is and wherever it sits, never opens the dashboard to another origin.</summary>
public sealed class CorsTests
{
    private const string Evil = "http://evil.example";

    private static HttpRequestMessage FromEvil(HttpMethod method, string url, bool preflight = false)
    {
        var request = new HttpRequestMessage(method, url);
        request.Headers.Add("Origin", Evil);
        if (preflight)
        {
            request.Headers.Add("Access-Control-Request-Method", "GET");
            request.Headers.Add("Access-Control-Request-Headers", "x-requested-with");
        }

        return request;
    }

    private static IEnumerable<string> CorsHeaders(HttpResponseMessage response) =>
        response.Headers.Concat(response.Content.Headers).Select(h => h.Key).Where(k => k.StartsWith("Access-Control-", StringComparison.OrdinalIgnoreCase));

    /// <summary>The app's own endpoint does answer the other origin (so CORS is live in this app).</summary>
    private static async Task AssertAppAllowsAsync(HttpClient client, string url)
    {
        using var response = await client.SendAsync(FromEvil(HttpMethod.Get, url));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("*", Assert.Single(response.Headers.GetValues("Access-Control-Allow-Origin")));
    }

    /// <summary>Dashboard pages, API and stream carry no CORS header, and preflights to them are refused.</summary>
    internal static async Task AssertDashboardClosedAsync(HttpClient client, string dashboard = "/_flowscope")
    {
        foreach (var path in new[] { "/api/stats", "/api/traces", "/", "/app.js", "/api/nothing" })
        {
            using var response = await client.SendAsync(FromEvil(HttpMethod.Get, dashboard + path));
            Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.NotFound, $"{path}: {(int)response.StatusCode}");
            Assert.Empty(CorsHeaders(response));

            using var preflight = await client.SendAsync(FromEvil(HttpMethod.Options, dashboard + path, preflight: true));
            Assert.Equal(HttpStatusCode.Forbidden, preflight.StatusCode);
            Assert.Empty(CorsHeaders(preflight));
        }

        using var stats = await client.SendAsync(FromEvil(HttpMethod.Get, dashboard + "/api/stats"));
        Assert.Contains("\"captured\"", await stats.Content.ReadAsStringAsync(), StringComparison.Ordinal); // answered, just not to other origins
    }

    [Theory]
    [InlineData("before")]
    [InlineData("after")]
    [InlineData("named")]
    public async Task A_global_or_named_policy_for_any_origin_never_reaches_the_dashboard(string cors)
    {
        await using var app = await ConduitHost.StartStartupAsync(flowScope: true, cors);
        await AssertAppAllowsAsync(app.Client, "/conduit/articles");
        await AssertDashboardClosedAsync(app.Client);
    }

    [Fact]
    public async Task An_EnableCors_controller_keeps_its_policy_and_the_dashboard_gets_none()
    {
        await using var app = await ConduitHost.StartStartupAsync(flowScope: true, cors: "none");
        await AssertAppAllowsAsync(app.Client, "/conduit/public");
        await AssertDashboardClosedAsync(app.Client);
    }

    [Fact]
    public async Task RequireCors_chained_on_MapFlowScope_or_on_its_group_is_not_applied_to_the_dashboard()
    {
        await using var app = await StartEndpointAppAsync(a =>
        {
            a.MapGet("/api/things", () => "things").RequireCors("Open");
            a.MapFlowScope("/ops/flow").RequireCors("Open");
            a.MapGroup("/admin").RequireCors("Open").MapFlowScope();
        });

        await AssertAppAllowsAsync(app.GetTestClient(), "/api/things");
        await AssertDashboardClosedAsync(app.GetTestClient(), "/ops/flow");
        await AssertDashboardClosedAsync(app.GetTestClient(), "/admin/_flowscope");
        await AssertDashboardClosedAsync(app.GetTestClient());
    }

    [Fact]
    public async Task Middleware_that_stamps_CORS_headers_on_every_response_cannot_stamp_the_dashboard()
    {
        await using var app = await StartEndpointAppAsync(a => a.MapGet("/api/things", () => "things"), stamp: true);
        await AssertAppAllowsAsync(app.GetTestClient(), "/api/things");
        await AssertDashboardClosedAsync(app.GetTestClient());
    }

    /// <summary>A minimal-API app with endpoint routing and UseCors between routing and endpoints, as the docs place it.</summary>
    private static async Task<WebApplication> StartEndpointAppAsync(Action<WebApplication> map, bool stamp = false)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.WebHost.UseTestServer();
        builder.Logging.ClearProviders();
        builder.Services.AddFlowScope();
        builder.Services.AddCors(o => o.AddPolicy("Open", p => p.AllowAnyOrigin().AllowAnyHeader().AllowAnyMethod()));
        var app = builder.Build();
        if (stamp)
        {
            app.Use((context, next) =>
            {
                context.Response.Headers.AccessControlAllowOrigin = "*";
                context.Response.OnStarting(() =>
                {
                    context.Response.Headers["Access-Control-Allow-Credentials"] = "true";
                    return Task.CompletedTask;
                });
                return next(context);
            });
        }

        app.UseFlowScope();
        app.UseRouting();
        app.UseCors();
        map(app);
        await app.StartAsync();
        return app;
    }
}
