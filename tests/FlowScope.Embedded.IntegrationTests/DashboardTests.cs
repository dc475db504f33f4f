using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;

namespace FlowScope.Embedded.IntegrationTests;

public sealed partial class DashboardTests
{
    [Fact]
    public async Task The_page_is_served_with_a_strict_content_security_policy_and_no_inline_script()
    {
        await using var app = await TestApp.StartAsync();

        using var response = await app.Client.GetAsync("/_flowscope/");
        var html = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        var csp = string.Join(";", response.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("script-src 'self'", csp, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-inline", csp, StringComparison.Ordinal);
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());

        var scripts = ScriptTag().Matches(html);
        Assert.NotEmpty(scripts);
        Assert.All(scripts, m => Assert.Contains("src=", m.Value, StringComparison.Ordinal));
        Assert.DoesNotContain("src=\"/", html, StringComparison.Ordinal); // every URL is relative
        Assert.DoesNotContain("href=\"/", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Assets_have_their_content_types_and_revalidate_with_ETags()
    {
        await using var app = await TestApp.StartAsync();

        using var js = await app.Client.GetAsync("/_flowscope/app.js");
        using var css = await app.Client.GetAsync("/_flowscope/styles.css");
        Assert.Equal("text/javascript", js.Content.Headers.ContentType?.MediaType);
        Assert.Equal("text/css", css.Content.Headers.ContentType?.MediaType);

        var etag = js.Headers.ETag;
        Assert.NotNull(etag);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/_flowscope/app.js");
        request.Headers.IfNoneMatch.Add(etag);
        using var again = await app.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.NotModified, again.StatusCode);

        Assert.Equal(HttpStatusCode.NotFound, (await app.Client.GetAsync("/_flowscope/nothing-here.js")).StatusCode);
    }

    [Fact]
    public async Task Every_URL_follows_the_PathBase()
    {
        await using var app = await TestApp.StartAsync(beforeFlowScope: a => a.UsePathBase("/tools"));

        using var redirect = await app.Client.GetAsync("/tools/_flowscope");
        Assert.Equal(HttpStatusCode.Redirect, redirect.StatusCode);
        Assert.Equal("/tools/_flowscope/", new Uri(new Uri("http://localhost/tools/_flowscope"), redirect.Headers.Location!).AbsolutePath);

        Assert.Equal(HttpStatusCode.OK, (await app.Client.GetAsync("/tools/_flowscope/")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await app.Client.GetAsync("/tools/_flowscope/api/traces")).StatusCode);

        await app.Client.GetStringAsync("/tools/hello/3");
        var trace = await app.WaitForTraceAsync(t => t.Route == "/hello/{id:int}");
        Assert.Equal("/tools/hello/3", (await app.Store.GetTraceAsync(trace.TraceId))!.Spans[0].GetAttribute("url.path"));
        Assert.DoesNotContain((await app.Store.QueryAsync(new() { Limit = 100 })).Traces, t => t.Name.Contains("_flowscope", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Remote_callers_are_refused_unless_the_app_opens_the_dashboard()
    {
        static void FromFarAway(WebApplication a) => a.Use((context, next) =>
        {
            context.Connection.RemoteIpAddress = IPAddress.Parse("203.0.113.9");
            return next(context);
        });

        await using (var closed = await TestApp.StartAsync(beforeFlowScope: FromFarAway))
        {
            Assert.Equal(HttpStatusCode.NotFound, (await closed.Client.GetAsync("/_flowscope/api/traces")).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await closed.Client.GetAsync("/_flowscope/")).StatusCode);
            Assert.Equal("hello 1", await closed.Client.GetStringAsync("/hello/1")); // the app itself is unaffected
        }

        await using var open = await TestApp.StartAsync(new() { ["FlowScope:AllowRemoteDashboard"] = "true" }, beforeFlowScope: FromFarAway);
        Assert.Equal(HttpStatusCode.OK, (await open.Client.GetAsync("/_flowscope/api/traces")).StatusCode);
    }

    [GeneratedRegex("<script[^>]*>", RegexOptions.IgnoreCase)]
    private static partial Regex ScriptTag();
}
