using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol.Client;
using ModelContextProtocol.Server;

namespace FlowScope.Embedded.Mcp.Tests;

/// <summary>The MCP endpoint is refused where the dashboard would be refused, and answers where it would answer.</summary>
public sealed class AccessTests
{
    private const string Initialize =
        """{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"probe","version":"1"}}}""";

    [Fact]
    public async Task A_remote_caller_is_refused_as_if_nothing_were_there()
    {
        await using var app = await McpTestApp.StartAsync();

        var refused = await Assert.ThrowsAnyAsync<Exception>(() => app.ConnectAsync(headers: new Dictionary<string, string> { [McpTestApp.RemoteHeader] = "1" }));
        Assert.Contains("404", Describe(refused), StringComparison.Ordinal);

        using var response = await PostAsync(app, r => r.Headers.Add(McpTestApp.RemoteHeader, "1"));
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);

        await using var local = await app.ConnectAsync();
        Assert.NotEmpty(await local.ListToolsAsync());
    }

    [Fact]
    public async Task A_host_name_that_is_not_allowed_is_refused()
    {
        await using var app = await McpTestApp.StartAsync();

        var refused = await Assert.ThrowsAnyAsync<Exception>(() => app.ConnectAsync(alter: r => r.Headers.Host = "rebound.example"));
        Assert.Contains("421", Describe(refused), StringComparison.Ordinal);

        using var response = await PostAsync(app, r => r.Headers.Host = "rebound.example");
        Assert.Equal(HttpStatusCode.MisdirectedRequest, response.StatusCode);
    }

    [Fact]
    public async Task A_listed_host_name_is_answered()
    {
        await using var app = await McpTestApp.StartAsync(configure: b => b.Services.Configure<FlowScopeOptions>(o => o.DashboardAllowedHosts.Add("devbox")));

        await using var client = await app.ConnectAsync(alter: r => r.Headers.Host = "devbox");
        Assert.NotEmpty(await client.ListToolsAsync());
    }

    [Fact]
    public async Task Cross_site_browser_requests_and_preflights_are_refused()
    {
        await using var app = await McpTestApp.StartAsync();

        using var crossSite = await PostAsync(app, r => r.Headers.Add("Sec-Fetch-Site", "cross-site"));
        Assert.Equal(HttpStatusCode.Forbidden, crossSite.StatusCode);

        using var preflight = new HttpRequestMessage(HttpMethod.Options, app.McpEndpoint);
        preflight.Headers.Add("Origin", "https://elsewhere.example");
        preflight.Headers.Add("Access-Control-Request-Method", "POST");
        using var answer = await app.Http.SendAsync(preflight);
        Assert.Equal(HttpStatusCode.Forbidden, answer.StatusCode);
        Assert.False(answer.Headers.Contains("Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task With_the_dashboard_policy_anonymous_callers_are_refused_and_signed_in_ones_answered_from_anywhere()
    {
        await using var app = await McpTestApp.StartAsync(withPolicy: true);

        var refused = await Assert.ThrowsAnyAsync<Exception>(() => app.ConnectAsync());
        Assert.Contains("401", Describe(refused), StringComparison.Ordinal);

        using var anonymous = await PostAsync(app, _ => { });
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);

        var signedIn = new Dictionary<string, string> { ["X-Test-User"] = "ada", [McpTestApp.RemoteHeader] = "1" };
        await using var client = await app.ConnectAsync(headers: signedIn);
        var answer = await client.CallToolAsync("get_metrics");
        Assert.Contains("HTTP requests", answer.Text(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Methods_other_than_post_are_refused_not_left_to_the_apps_fallback()
    {
        await using var app = await McpTestApp.StartAsync(map: a => a.MapFallback(() => "the app's page"));

        using var get = await app.Http.GetAsync(app.McpEndpoint);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, get.StatusCode);
        Assert.Equal("POST", get.Content.Headers.Allow.Single());

        using var remote = new HttpRequestMessage(HttpMethod.Get, app.McpEndpoint);
        remote.Headers.Add(McpTestApp.RemoteHeader, "1");
        using var refused = await app.Http.SendAsync(remote);
        Assert.Equal(HttpStatusCode.NotFound, refused.StatusCode);
    }

    [Fact]
    public async Task The_dashboard_still_answers_beside_the_mcp_endpoint()
    {
        await using var app = await McpTestApp.StartAsync();

        using var traces = await app.Http.GetAsync(new Uri("/_flowscope/api/traces", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, traces.StatusCode);
        using var page = await app.Http.GetAsync(new Uri("/_flowscope/", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
    }

    [Fact]
    public async Task The_endpoint_follows_the_dashboard_path()
    {
        await using var app = await McpTestApp.StartAsync(configure: b => b.Services.Configure<FlowScopeOptions>(o => o.DashboardPath = "/ops/flowscope"));

        var transport = new HttpClientTransport(new HttpClientTransportOptions
        {
            Endpoint = new Uri(app.BaseAddress, "/ops/flowscope/mcp"),
            TransportMode = HttpTransportMode.StreamableHttp,
        });
        await using var client = await McpClient.CreateAsync(transport);
        Assert.NotEmpty(await client.ListToolsAsync());
    }

    [Fact]
    public async Task The_endpoint_follows_the_path_base()
    {
        await using var app = await McpTestApp.StartAsync(beforeFlowScope: a =>
        {
            a.UsePathBase("/tools");
            a.UseRouting();
        });

        var transport = new HttpClientTransport(new HttpClientTransportOptions
        {
            Endpoint = new Uri(app.BaseAddress, "/tools/_flowscope/mcp"),
            TransportMode = HttpTransportMode.StreamableHttp,
        });
        await using var client = await McpClient.CreateAsync(transport);
        Assert.NotEmpty(await client.ListToolsAsync());
    }

    [Fact]
    public async Task The_apps_own_mcp_server_and_flowscopes_do_not_mix()
    {
        await using var app = await McpTestApp.StartAsync(
            configure: b => b.Services.AddMcpServer().WithHttpTransport().WithTools([McpServerTool.Create((string text) => text, new() { Name = "echo" })]),
            map: a => a.MapMcp("/app-mcp"));

        await using var flowscope = await app.ConnectAsync();
        Assert.DoesNotContain(await flowscope.ListToolsAsync(), t => t.Name == "echo");

        var transport = new HttpClientTransport(new HttpClientTransportOptions { Endpoint = new Uri(app.BaseAddress, "/app-mcp"), TransportMode = HttpTransportMode.StreamableHttp });
        await using var own = await McpClient.CreateAsync(transport);
        Assert.Equal(["echo"], (await own.ListToolsAsync()).Select(t => t.Name));
    }

    private static async Task<HttpResponseMessage> PostAsync(McpTestApp app, Action<HttpRequestMessage> alter)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, app.McpEndpoint)
        {
            Content = new StringContent(Initialize, Encoding.UTF8, "application/json"),
        };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        alter(request);
        return await app.Http.SendAsync(request);
    }

    private static string Describe(Exception exception)
    {
        var text = new StringBuilder();
        for (var e = exception; e is not null; e = e.InnerException)
        {
            text.Append(e.GetType().Name).Append(": ").Append(e.Message).Append(" | ");
            if (e is HttpRequestException { StatusCode: { } status })
            {
                text.Append((int)status).Append(" | ");
            }
        }

        return text.ToString();
    }
}
