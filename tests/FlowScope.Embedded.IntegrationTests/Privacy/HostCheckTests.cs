using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.DependencyInjection;

namespace FlowScope.Embedded.IntegrationTests.Privacy;

/// <summary>
/// DNS rebinding: a page on a domain that re-resolves to 127.0.0.1 is same-origin with the dashboard in the browser,
/// but its requests name its domain. Over real sockets on loopback, as the issue found it.
/// </summary>
public sealed class HostCheckTests
{
    private static async Task<(HttpStatusCode Status, string Body)> StatusAsync(LoopbackApp app, string path, string host, params (string, string)[] headers)
    {
        using var response = await app.GetAsync(path, host, headers);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task On_loopback_a_rebinding_host_name_is_refused_and_loopback_names_are_answered()
    {
        await using var app = await LoopbackApp.StartAsync(new() { ["FlowScope:EnableFaultInjection"] = "true" });

        // The finding: Host evil.example on 127.0.0.1 read the fault targets. Now 421, naming the fix.
        var (status, body) = await StatusAsync(app, "/_flowscope/api/faults", "evil.example:5091");
        Assert.Equal(HttpStatusCode.MisdirectedRequest, status);
        using (var problem = JsonDocument.Parse(body))
        {
            Assert.Equal(421, problem.RootElement.GetProperty("status").GetInt32());
            Assert.Contains("FlowScope:DashboardAllowedHosts", problem.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        Assert.DoesNotContain("targets", body, StringComparison.Ordinal);
        foreach (var path in new[] { "/_flowscope/", "/_flowscope/api/stats", "/_flowscope/api/traces", "/_flowscope/api/operator", "/_flowscope/app.js" })
        {
            foreach (var host in new[] { "evil.example", "127.0.0.1.nip.io", "0.0.0.0", "localhost.evil.example", "10.0.0.5" })
            {
                Assert.Equal(HttpStatusCode.MisdirectedRequest, (await StatusAsync(app, path, host)).Status);
            }

            foreach (var host in new[] { "localhost", "LOCALHOST", "127.0.0.1", "127.1.2.3", "[::1]", "app.localhost", "localhost." })
            {
                Assert.Equal(HttpStatusCode.OK, (await StatusAsync(app, path, host)).Status);
            }
        }

        // The app's own endpoints are none of FlowScope's business.
        Assert.Equal(HttpStatusCode.OK, (await StatusAsync(app, "/hello/1", "evil.example")).Status);
        Assert.Single(app.Logs.Entries, e => e.Message.Contains("FlowScope refused a dashboard request naming host", StringComparison.Ordinal)
            && e.Message.Contains("DashboardAllowedHosts", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Another_origin_gets_no_CORS_header_from_the_dashboard_over_real_sockets()
    {
        await using var app = await LoopbackApp.StartAsync();
        using var own = await app.GetAsync("/hello/1", null, ("Origin", "http://evil.example"));
        Assert.Equal("*", Assert.Single(own.Headers.GetValues("Access-Control-Allow-Origin"))); // the app's policy, for the app

        using var stats = await app.GetAsync("/_flowscope/api/stats", null, ("Origin", "http://evil.example"));
        Assert.Equal(HttpStatusCode.OK, stats.StatusCode);
        Assert.False(stats.Headers.Contains("Access-Control-Allow-Origin"));
        await CorsTests.AssertDashboardClosedAsync(app.Client);
    }

    [Fact]
    public async Task Listed_names_are_answered_and_a_list_applies_to_callers_admitted_otherwise_too()
    {
        await using var app = await LoopbackApp.StartAsync(new()
        {
            ["FlowScope:DashboardAllowedHosts:0"] = "devbox",
            ["FlowScope:DashboardAllowedHosts:1"] = "*.corp.example",
            ["FlowScope:AllowRemoteDashboard"] = "true",
        });

        foreach (var host in new[] { "devbox", "DevBox", "flow.corp.example", "localhost" })
        {
            Assert.Equal(HttpStatusCode.OK, (await StatusAsync(app, "/_flowscope/api/stats", host)).Status);
        }

        foreach (var host in new[] { "corp.example", "devbox.evil.example", "evil.example" })
        {
            Assert.Equal(HttpStatusCode.MisdirectedRequest, (await StatusAsync(app, "/_flowscope/api/stats", host)).Status);
        }
    }

    [Fact]
    public async Task With_AllowRemoteDashboard_and_no_list_every_name_is_answered_as_the_app_opened_it_to_everyone()
    {
        await using var app = await LoopbackApp.StartAsync(new() { ["FlowScope:AllowRemoteDashboard"] = "true" });
        Assert.Equal(HttpStatusCode.OK, (await StatusAsync(app, "/_flowscope/api/stats", "devbox")).Status);
        Assert.Equal(HttpStatusCode.OK, (await StatusAsync(app, "/_flowscope/api/stats", "localhost")).Status);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Under_an_authorization_policy_the_app_s_rules_decide_and_a_host_list_still_applies(bool listed)
    {
        Dictionary<string, string?> settings = new() { ["FlowScope:DashboardAuthorizationPolicy"] = "Operators" };
        if (listed)
        {
            settings["FlowScope:DashboardAllowedHosts:0"] = "ops.example";
        }

        await using var app = await TestApp.StartAsync(
            settings,
            configureBuilder: b =>
            {
                b.Services.AddAuthentication(Security.AccessTests.HeaderAuthentication.SchemeName)
                    .AddScheme<Microsoft.AspNetCore.Authentication.AuthenticationSchemeOptions, Security.AccessTests.HeaderAuthentication>(Security.AccessTests.HeaderAuthentication.SchemeName, null);
                b.Services.AddAuthorization(o => o.AddPolicy("Operators", p => p.RequireRole("operator")));
            },
            beforeFlowScope: Security.AccessTests.FromFarAway);

        async Task<HttpStatusCode> AsOperatorAsync(string host)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/_flowscope/api/stats");
            request.Headers.Host = host;
            request.Headers.Add("X-Test-User", "alice");
            request.Headers.Add("X-Test-Role", "operator");
            return (await app.Client.SendAsync(request)).StatusCode;
        }

        Assert.Equal(HttpStatusCode.Unauthorized, (await app.Client.GetAsync("/_flowscope/api/stats")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, await AsOperatorAsync("ops.example"));
        Assert.Equal(listed ? HttpStatusCode.MisdirectedRequest : HttpStatusCode.OK, await AsOperatorAsync("flowscope.evil.example"));
    }

    [Fact]
    public async Task A_host_list_entry_with_a_port_or_scheme_stops_the_start_with_the_fix()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => LoopbackApp.StartAsync(new() { ["FlowScope:DashboardAllowedHosts:0"] = "devbox:5091" }));
        Assert.Contains("FlowScope:DashboardAllowedHosts", error.Message, StringComparison.Ordinal);
        Assert.Contains("devbox:5091", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_loopback_connection_carrying_a_proxy_s_forwarding_headers_is_not_local()
    {
        await using var app = await LoopbackApp.StartAsync();

        // A proxy on this machine forwards a client from elsewhere; the app has not processed the headers.
        Assert.Equal(HttpStatusCode.NotFound, (await StatusAsync(app, "/_flowscope/api/stats", "localhost", ("X-Forwarded-For", "203.0.113.7"))).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await StatusAsync(app, "/_flowscope/api/stats", "localhost", ("Forwarded", "for=203.0.113.7"))).Status);
        Assert.Equal(HttpStatusCode.OK, (await StatusAsync(app, "/_flowscope/api/stats", "localhost")).Status);
        Assert.Single(app.Logs.Entries, e => e.Message.Contains("UseForwardedHeaders", StringComparison.Ordinal));
    }

    [Fact]
    public async Task With_UseForwardedHeaders_the_forwarded_client_s_address_decides()
    {
        await using var app = await LoopbackApp.StartAsync(
            services: s => s.Configure<ForwardedHeadersOptions>(o => o.ForwardedHeaders = ForwardedHeaders.XForwardedFor),
            beforeFlowScope: a => a.UseForwardedHeaders());

        Assert.Equal(HttpStatusCode.NotFound, (await StatusAsync(app, "/_flowscope/api/stats", "localhost", ("X-Forwarded-For", "203.0.113.7"))).Status);
        Assert.Equal(HttpStatusCode.OK, (await StatusAsync(app, "/_flowscope/api/stats", "localhost", ("X-Forwarded-For", "127.0.0.1"))).Status);

        // The client the proxy forwarded is on this machine: it may operate, as on loopback.
        using var operatorInfo = JsonDocument.Parse((await StatusAsync(app, "/_flowscope/api/operator", "localhost", ("X-Forwarded-For", "127.0.0.1"))).Body);
        Assert.True(operatorInfo.RootElement.GetProperty("canOperate").GetBoolean());
    }

    [Theory]
    [InlineData("cross-site", HttpStatusCode.Forbidden)]
    [InlineData("same-site", HttpStatusCode.Forbidden)]
    [InlineData("same-origin", HttpStatusCode.OK)]
    [InlineData("none", HttpStatusCode.OK)]
    [InlineData(null, HttpStatusCode.OK)]
    public async Task The_API_and_the_live_stream_answer_the_dashboard_s_own_pages_only(string? site, HttpStatusCode expected)
    {
        await using var app = await LoopbackApp.StartAsync();
        (string, string)[] headers = site is null ? [] : [("Sec-Fetch-Site", site), ("Sec-Fetch-Mode", "cors")];
        foreach (var path in new[] { "/_flowscope/api/stats", "/_flowscope/api/traces", "/_flowscope/api/operator", "/_flowscope/api/faults" })
        {
            var (status, body) = await StatusAsync(app, path, "localhost", headers);
            Assert.Equal(expected, status);
            if (expected == HttpStatusCode.Forbidden)
            {
                Assert.Contains("\"status\":403", body, StringComparison.Ordinal);
            }
        }

        using var request = new HttpRequestMessage(HttpMethod.Get, "/_flowscope/api/stream");
        foreach (var (name, value) in headers)
        {
            request.Headers.Add(name, value);
        }

        using var stream = await app.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(expected, stream.StatusCode);

        // Pages and assets open from a link on any site (navigations); only the data is kept to the dashboard's pages.
        Assert.Equal(HttpStatusCode.OK, (await StatusAsync(app, "/_flowscope/", "localhost", ("Sec-Fetch-Site", site ?? "cross-site"), ("Sec-Fetch-Mode", "navigate"))).Status);
    }
}
