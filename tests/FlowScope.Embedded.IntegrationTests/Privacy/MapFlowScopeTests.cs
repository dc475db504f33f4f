using System.Net;
using System.Text.Json;
using FlowScope.Embedded.IntegrationTests.Security;
using FlowScope.Embedded.Storage;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace FlowScope.Embedded.IntegrationTests.Privacy;

/// <summary>MapFlowScope puts the dashboard among the app's own endpoints, where the app's conventions apply to it.</summary>
public sealed class MapFlowScopeTests
{
    [Fact]
    public async Task Mapped_at_the_dashboard_path_with_RequireAuthorization_the_app_s_policy_decides_and_the_dashboard_stays_private()
    {
        await using var app = await TestApp.StartAsync(
            configureBuilder: b =>
            {
                b.Services.AddAuthentication(AccessTests.HeaderAuthentication.SchemeName).AddScheme<AuthenticationSchemeOptions, AccessTests.HeaderAuthentication>(AccessTests.HeaderAuthentication.SchemeName, null);
                b.Services.AddAuthorization(o => o.AddPolicy("Operators", p => p.RequireRole("operator")));
                b.Services.AddCors(o => o.AddDefaultPolicy(p => p.AllowAnyOrigin()));
            },
            beforeFlowScope: a =>
            {
                AccessTests.FromFarAway(a);
                a.UseCors();
                a.MapFlowScope("/_flowscope").RequireAuthorization("Operators");
            });

        HttpRequestMessage Request(string url, string? user, string? role)
        {
            var request = new HttpRequestMessage(HttpMethod.Get, url);
            request.Headers.Add("Origin", "http://evil.example");
            if (user is not null)
            {
                request.Headers.Add("X-Test-User", user);
            }

            if (role is not null)
            {
                request.Headers.Add("X-Test-Role", role);
            }

            return request;
        }

        // The app's endpoints answer, under its policy, from anywhere: not UseFlowScope's loopback-only branch.
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.Client.SendAsync(Request("/_flowscope/api/stats", null, null))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await app.Client.SendAsync(Request("/_flowscope/api/stats", "mallory", null))).StatusCode);
        using var allowed = await app.Client.SendAsync(Request("/_flowscope/api/stats", "alice", "operator"));
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);

        // Still FlowScope's own: no CORS header for the other origin, not recorded, not in flight.
        Assert.False(allowed.Headers.Contains("Access-Control-Allow-Origin"));
        Assert.Equal("hello 4", await app.Client.GetStringAsync("/hello/4"));
        await app.WaitForTraceAsync(t => t.Route == "/hello/{id:int}");
        using var metrics = JsonDocument.Parse(await (await app.Client.SendAsync(Request("/_flowscope/api/metrics", "alice", "operator"))).Content.ReadAsStringAsync());
        Assert.Equal(0, metrics.RootElement.GetProperty("inFlight").GetInt64());
        Assert.DoesNotContain((await app.Store.QueryAsync(new TraceQuery { Limit = 100 })).Traces, t => t.Name.Contains("_flowscope", StringComparison.Ordinal));
    }
}
