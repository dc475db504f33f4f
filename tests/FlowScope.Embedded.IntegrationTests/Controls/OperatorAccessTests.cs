using System.Net;
using FlowScope.Embedded.Faults;
using FlowScope.Embedded.IntegrationTests.Security;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace FlowScope.Embedded.IntegrationTests.Controls;

public sealed class OperatorAccessTests
{
    private static readonly object Delay = new { kind = "endpoint", component = "/hello/{id:int}", delayMs = 1, maxHits = 1 };

    [Fact]
    public async Task A_POST_without_a_valid_antiforgery_token_and_cookie_is_rejected_and_changes_nothing()
    {
        await using var app = await TestApp.StartAsync(new() { ["FlowScope:EnableFaultInjection"] = "true" });
        var op = new OperatorClient(app.Client);
        var session = await op.OpenAsync();
        Assert.True(session.GetProperty("canOperate").GetBoolean());
        Assert.False(string.IsNullOrEmpty(session.GetProperty("antiforgery").GetProperty("token").GetString()));

        using (var noToken = await op.PostAsync("api/faults", Delay, withToken: false))
        {
            var problem = await OperatorClient.ProblemAsync(noToken, 400);
            Assert.Equal("antiforgery", problem.GetProperty("parameter").GetString());
        }

        // The token alone, without the cookie it belongs to (a forged cross-site request cannot read either).
        using (var noCookie = new HttpRequestMessage(HttpMethod.Post, "/_flowscope/api/faults") { Content = System.Net.Http.Json.JsonContent.Create(Delay) })
        {
            var antiforgery = session.GetProperty("antiforgery");
            noCookie.Headers.Add(antiforgery.GetProperty("headerName").GetString()!, antiforgery.GetProperty("token").GetString());
            await OperatorClient.ProblemAsync(await app.Client.SendAsync(noCookie), 400);
        }

        using (var simulator = await op.PostAsync("api/simulators", new { name = "none", running = true }, withToken: false))
        {
            await OperatorClient.ProblemAsync(simulator, 400);
        }

        using (var delete = await op.DeleteAsync("api/faults", withToken: false))
        {
            await OperatorClient.ProblemAsync(delete, 400);
        }

        Assert.False(app.App.Services.GetRequiredService<FaultInjector>().IsActive);
        await op.InjectAsync(Delay); // with both it works
        Assert.True(app.App.Services.GetRequiredService<FaultInjector>().IsActive);
    }

    [Fact]
    public async Task Without_an_operator_policy_remote_viewers_see_the_dashboard_read_only()
    {
        await using var app = await TestApp.StartAsync(
            new() { ["FlowScope:EnableFaultInjection"] = "true", ["FlowScope:AllowRemoteDashboard"] = "true" },
            beforeFlowScope: AccessTests.FromFarAway);
        var op = new OperatorClient(app.Client);
        var session = await op.OpenAsync();
        Assert.False(session.GetProperty("canOperate").GetBoolean());
        Assert.Contains("loopback", session.GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Equal(System.Text.Json.JsonValueKind.Null, session.GetProperty("antiforgery").ValueKind);
        Assert.True((await op.GetJsonAsync("api/faults")).GetProperty("enabled").GetBoolean()); // reading is allowed

        using var post = await op.PostAsync("api/faults", Delay);
        var problem = await OperatorClient.ProblemAsync(post, 403);
        Assert.Contains("FlowScope:OperatorAuthorizationPolicy", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        using var simulators = await op.PostAsync("api/simulators", new { name = "x", running = true });
        await OperatorClient.ProblemAsync(simulators, 403);
    }

    [Fact]
    public async Task With_an_operator_policy_anonymous_callers_get_401_viewers_403_and_operators_act_from_anywhere()
    {
        await using var app = await TestApp.StartAsync(
            new()
            {
                ["FlowScope:EnableFaultInjection"] = "true",
                ["FlowScope:DashboardAuthorizationPolicy"] = "Viewers",
                ["FlowScope:OperatorAuthorizationPolicy"] = "Operators",
            },
            configureBuilder: b =>
            {
                b.Services.AddAuthentication(AccessTests.HeaderAuthentication.SchemeName)
                    .AddScheme<AuthenticationSchemeOptions, AccessTests.HeaderAuthentication>(AccessTests.HeaderAuthentication.SchemeName, null);
                b.Services.AddAuthorization(o =>
                {
                    o.AddPolicy("Viewers", p => p.RequireAuthenticatedUser());
                    o.AddPolicy("Operators", p => p.RequireRole("operator"));
                });
            },
            beforeFlowScope: AccessTests.FromFarAway);

        var anonymous = new OperatorClient(app.Client);
        using (var response = await anonymous.PostAsync("api/faults", Delay))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }

        var viewer = new OperatorClient(app.Client, r => r.Headers.Add("X-Test-User", "bob"));
        var viewerSession = await viewer.OpenAsync();
        Assert.False(viewerSession.GetProperty("canOperate").GetBoolean());
        Assert.Contains("'Operators'", viewerSession.GetProperty("reason").GetString(), StringComparison.Ordinal);
        using (var response = await viewer.PostAsync("api/faults", Delay))
        {
            await OperatorClient.ProblemAsync(response, 403);
        }

        var operatorClient = new OperatorClient(app.Client, r =>
        {
            r.Headers.Add("X-Test-User", "alice");
            r.Headers.Add("X-Test-Role", "operator");
        });
        Assert.True((await operatorClient.OpenAsync()).GetProperty("canOperate").GetBoolean());
        await operatorClient.InjectAsync(Delay);

        // Alice's token is bound to Alice: Bob cannot replay it.
        var replay = new OperatorClient(app.Client, r =>
        {
            r.Headers.Add("X-Test-User", "bob");
            r.Headers.Add("X-Test-Role", "operator");
        });
        await replay.OpenAsync();
        using var stolen = new HttpRequestMessage(HttpMethod.Post, "/_flowscope/api/faults") { Content = System.Net.Http.Json.JsonContent.Create(Delay) };
        stolen.Headers.Add("X-Test-User", "bob");
        stolen.Headers.Add("X-Test-Role", "operator");
        var aliceToken = operatorClient.Session.GetProperty("antiforgery");
        stolen.Headers.Add(aliceToken.GetProperty("headerName").GetString()!, aliceToken.GetProperty("token").GetString());
        await OperatorClient.ProblemAsync(await app.Client.SendAsync(stolen), 400);
    }

    [Fact]
    public async Task An_operator_policy_with_its_own_authentication_scheme_signs_operators_in_with_that_scheme()
    {
        await using var app = await TestApp.StartAsync(
            new() { ["FlowScope:EnableFaultInjection"] = "true", ["FlowScope:OperatorAuthorizationPolicy"] = "Operators" },
            configureBuilder: b =>
            {
                // The app's default scheme knows nobody; operators sign in with the header scheme only.
                b.Services.AddAuthentication("Nobody")
                    .AddScheme<AuthenticationSchemeOptions, NobodyAuthentication>("Nobody", null)
                    .AddScheme<AuthenticationSchemeOptions, AccessTests.HeaderAuthentication>(AccessTests.HeaderAuthentication.SchemeName, null);
                b.Services.AddAuthorization(o => o.AddPolicy("Operators", p => p
                    .AddAuthenticationSchemes(AccessTests.HeaderAuthentication.SchemeName)
                    .RequireRole("operator")));
            });

        var alice = new OperatorClient(app.Client, r =>
        {
            r.Headers.Add("X-Test-User", "alice");
            r.Headers.Add("X-Test-Role", "operator");
        });
        Assert.True((await alice.OpenAsync()).GetProperty("canOperate").GetBoolean());
        await alice.InjectAsync(Delay);

        var bob = new OperatorClient(app.Client, r => r.Headers.Add("X-Test-User", "bob"));
        Assert.False((await bob.OpenAsync()).GetProperty("canOperate").GetBoolean());
        using var denied = await bob.PostAsync("api/faults", Delay);
        await OperatorClient.ProblemAsync(denied, 403);

        using var anonymous = await new OperatorClient(app.Client).PostAsync("api/faults", Delay);
        await OperatorClient.ProblemAsync(anonymous, 401);
    }

    [Fact]
    public async Task An_operator_policy_that_cannot_work_stops_the_start_with_the_fix()
    {
        var noAuthorization = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            TestApp.StartAsync(new() { ["FlowScope:OperatorAuthorizationPolicy"] = "Operators" }));
        Assert.Contains("AddAuthorization", noAuthorization.Message, StringComparison.Ordinal);
        Assert.Contains("FlowScope:OperatorAuthorizationPolicy", noAuthorization.Message, StringComparison.Ordinal);

        var unknown = await Assert.ThrowsAsync<InvalidOperationException>(() => TestApp.StartAsync(
            new() { ["FlowScope:OperatorAuthorizationPolicy"] = "Operatros" },
            configureBuilder: b => b.Services.AddAuthorization(o => o.AddPolicy("Operators", p => p.RequireRole("operator")))));
        Assert.Contains("no authorization policy has that name", unknown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_FlowScope_disabled_there_is_no_operator_API_and_no_injection()
    {
        await using var app = await TestApp.StartAsync(new() { ["FlowScope:Enabled"] = "false", ["FlowScope:EnableFaultInjection"] = "true" });
        Assert.Equal(HttpStatusCode.NotFound, (await app.Client.GetAsync("/_flowscope/api/operator")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await app.Client.PostAsync("/_flowscope/api/faults", new StringContent("{}"))).StatusCode);
        Assert.False(app.App.Services.GetRequiredService<FaultInjector>().Enabled);
    }
}

/// <summary>An authentication scheme that never signs anybody in.</summary>
internal sealed class NobodyAuthentication(Microsoft.Extensions.Options.IOptionsMonitor<AuthenticationSchemeOptions> options, Microsoft.Extensions.Logging.ILoggerFactory logger, System.Text.Encodings.Web.UrlEncoder encoder)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    protected override Task<AuthenticateResult> HandleAuthenticateAsync() => Task.FromResult(AuthenticateResult.NoResult());
}
