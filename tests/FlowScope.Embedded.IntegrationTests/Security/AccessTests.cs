using System.Net;
using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FlowScope.Embedded.IntegrationTests.Security;

public sealed class AccessTests
{
    /// <summary>Makes every request come from a non-loopback address, as a remote caller would.</summary>
    internal static void FromFarAway(WebApplication app) => app.Use((context, next) =>
    {
        context.Connection.RemoteIpAddress = IPAddress.Parse("198.51.100.20");
        return next(context);
    });

    [Fact]
    public async Task With_a_policy_anonymous_callers_get_401_denied_callers_403_and_allowed_callers_200_from_anywhere()
    {
        await using var app = await TestApp.StartAsync(
            new() { ["FlowScope:DashboardAuthorizationPolicy"] = "Operators" },
            configureBuilder: b =>
            {
                b.Services.AddAuthentication(HeaderAuthentication.SchemeName).AddScheme<AuthenticationSchemeOptions, HeaderAuthentication>(HeaderAuthentication.SchemeName, null);
                b.Services.AddAuthorization(o => o.AddPolicy("Operators", p => p.RequireRole("operator")));
            },
            beforeFlowScope: FromFarAway);

        Assert.Equal(HttpStatusCode.Unauthorized, (await app.Client.GetAsync("/_flowscope/api/traces")).StatusCode);

        using var denied = new HttpRequestMessage(HttpMethod.Get, "/_flowscope/api/traces");
        denied.Headers.Add("X-Test-User", "mallory");
        Assert.Equal(HttpStatusCode.Forbidden, (await app.Client.SendAsync(denied)).StatusCode);

        using var allowed = new HttpRequestMessage(HttpMethod.Get, "/_flowscope/api/traces");
        allowed.Headers.Add("X-Test-User", "alice");
        allowed.Headers.Add("X-Test-Role", "operator");
        Assert.Equal(HttpStatusCode.OK, (await app.Client.SendAsync(allowed)).StatusCode);

        // The app's own endpoints are not affected by the dashboard's policy.
        Assert.Equal("hello 1", await app.Client.GetStringAsync("/hello/1"));
    }

    [Fact]
    public async Task A_policy_without_authorization_services_stops_the_start_with_the_fix()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            TestApp.StartAsync(new() { ["FlowScope:DashboardAuthorizationPolicy"] = "Operators" }));
        Assert.Contains("AddAuthorization", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_access_token_is_logged_once_as_a_link_and_traded_for_a_strict_cookie()
    {
        var logs = new ListLoggerProvider();
        await using var app = await TestApp.StartAsync(
            new() { ["FlowScope:EnableAccessToken"] = "true" },
            configureBuilder: b => b.Logging.AddProvider(logs),
            beforeFlowScope: FromFarAway);
        _ = app.App.Services.GetRequiredService<Dashboard.DashboardAccess>(); // created with the app; logs the link
        var link = Assert.Single(logs.Messages, m => m.Contains("access link", StringComparison.Ordinal));
        var token = link[(link.IndexOf("access_token=", StringComparison.Ordinal) + "access_token=".Length)..].Trim();
        Assert.True(token.Length >= 32);

        Assert.Equal(HttpStatusCode.Unauthorized, (await app.Client.GetAsync("/_flowscope/api/traces")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.Client.GetAsync("/_flowscope/?access_token=wrong")).StatusCode);

        using var exchange = await app.Client.GetAsync($"/_flowscope/?access_token={token}&trace=abc");
        Assert.Equal(HttpStatusCode.Redirect, exchange.StatusCode);
        // Relative, so it also holds for the browser behind a proxy that stripped a prefix (…/proxy/_flowscope/).
        Assert.Equal("./?trace=abc", exchange.Headers.Location?.OriginalString);
        Assert.Equal("/_flowscope/?trace=abc", new Uri(new Uri("http://localhost/_flowscope/?access_token=x"), exchange.Headers.Location!).PathAndQuery);
        Assert.Equal("/proxy/_flowscope/?trace=abc", new Uri(new Uri("http://localhost/proxy/_flowscope/?access_token=x"), exchange.Headers.Location!).PathAndQuery);
        var cookie = Assert.Single(exchange.Headers.GetValues("Set-Cookie"));
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);

        // No Path attribute: the browser scopes the cookie to the dashboard as it sees it, prefix included.
        Assert.DoesNotContain("path=", cookie, StringComparison.OrdinalIgnoreCase);
        foreach (var dashboard in new[] { "http://localhost/_flowscope/", "http://localhost/proxy/_flowscope/" })
        {
            var jar = new CookieContainer();
            jar.SetCookies(new Uri(dashboard), cookie);
            Assert.Single(jar.GetCookies(new Uri(dashboard + "api/traces")));
            Assert.Empty(jar.GetCookies(new Uri(new Uri(dashboard), "/hello/1")));
        }

        using var withCookie = new HttpRequestMessage(HttpMethod.Get, "/_flowscope/api/traces");
        withCookie.Headers.Add("Cookie", cookie.Split(';')[0]);
        Assert.Equal(HttpStatusCode.OK, (await app.Client.SendAsync(withCookie)).StatusCode);
    }

    internal sealed class HeaderAuthentication(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        public const string SchemeName = "Header";

        protected override Task<AuthenticateResult> HandleAuthenticateAsync()
        {
            if (Request.Headers["X-Test-User"].ToString() is not { Length: > 0 } user)
            {
                return Task.FromResult(AuthenticateResult.NoResult());
            }

            var claims = new List<Claim> { new(ClaimTypes.Name, user) };
            if (Request.Headers["X-Test-Role"].ToString() is { Length: > 0 } role)
            {
                claims.Add(new Claim(ClaimTypes.Role, role));
            }

            return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName)), SchemeName)));
        }
    }
}

/// <summary>Collects formatted log messages.</summary>
internal sealed class ListLoggerProvider : ILoggerProvider
{
    private readonly List<string> _messages = [];

    public IReadOnlyList<string> Messages
    {
        get
        {
            lock (_messages)
            {
                return [.. _messages];
            }
        }
    }

    public ILogger CreateLogger(string categoryName) => new ListLogger(this);

    public void Dispose()
    {
    }

    private sealed class ListLogger(ListLoggerProvider owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (owner._messages)
            {
                owner._messages.Add(formatter(state, exception));
            }
        }
    }
}
