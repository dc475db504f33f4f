using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace FlowScope.Embedded.BrowserTests;

/// <summary>
/// The list shows every request's HTTP status, client errors apart from successes and server errors, and folds routine
/// requests (static files, health checks, OpenAPI, favicon) away behind one toggle.
/// </summary>
[Collection(BrowserSuite.Name)]
public sealed class StatusAndRoutineTests(BrowserFixture fixture)
{
    [Fact]
    public async Task Every_request_shows_its_status_and_client_errors_stand_apart_at_a_glance_and_by_filter()
    {
        await using var app = await ApiTestApp.StartAsync();
        Assert.Equal(401, await app.GetAsync("me"));
        Assert.Equal(400, await app.SendAsync(HttpMethod.Post, "orders"));
        Assert.Equal(404, await app.GetAsync("orders/404"));
        Assert.Equal(200, await app.GetAsync("quota"));
        Assert.Equal(429, await app.GetAsync("quota"));
        Assert.Equal(200, await app.GetAsync("orders/1"));
        await using var d = await DashboardPage.OpenAsync(fixture, app.Dashboard, 1600, 1000);
        var page = d.Page;

        async Task ExpectStatus(string name, string code, string cls)
        {
            var cell = d.TraceRows.Filter(new() { HasText = name }).First.Locator(".status-code");
            await Expect(cell).ToHaveTextAsync(code);
            await Expect(cell).ToHaveClassAsync(new Regex($"status-{cls}"));
        }

        await ExpectStatus("GET /me", "401", "client-error");
        await ExpectStatus("POST /orders", "400", "client-error");
        await ExpectStatus("GET /orders/{id:int}", "200", "success");
        await Expect(d.TraceRows.Locator(".status-code", new() { HasText = "404" })).ToHaveClassAsync(new Regex("status-client-error"));
        await Expect(d.TraceRows.Locator(".status-code", new() { HasText = "429" })).ToHaveClassAsync(new Regex("status-client-error"));

        // Client errors are not failures: their rows are not red, and the header counts them apart.
        await Expect(page.Locator("#list-scroll .trow.is-error")).ToHaveCountAsync(0);
        await Expect(page.Locator("#m-4xx")).ToHaveTextAsync("4");
        await Expect(page.Locator("#m-err")).ToHaveTextAsync("0.0%");

        // The filter: 4xx only.
        await page.SelectOptionAsync("#f-status", "4xx");
        await Expect(page).ToHaveURLAsync(new Regex("status=4xx"));
        await Expect(d.TraceRows).ToHaveCountAsync(4);
        var codes = await d.TraceRows.Locator(".status-code").AllTextContentsAsync();
        Assert.Equal(["400", "401", "404", "429"], codes.Order(StringComparer.Ordinal));

        // The same filter in the API.
        using var api = JsonDocument.Parse(await app.Client.GetStringAsync("_flowscope/api/traces?statusClass=4xx"));
        Assert.Equal(4, api.RootElement.GetProperty("traces").GetArrayLength());
        d.AssertNoErrors();
    }

    [Fact]
    public async Task Routine_requests_are_folded_behind_one_toggle_yet_counted_and_searchable()
    {
        await using var app = await ApiTestApp.StartAsync();
        Assert.Equal(200, await app.GetAsync("orders/7"));
        Assert.Equal(200, await app.GetAsync("app.js"));
        Assert.Equal(200, await app.GetAsync("styles.css"));
        Assert.Equal(200, await app.GetAsync("health"));
        Assert.Equal(200, await app.GetAsync("openapi/v1.json"));
        Assert.Equal(404, await app.GetAsync("favicon.ico"));
        await using var d = await DashboardPage.OpenAsync(fixture, app.Dashboard, 1600, 1000);
        var page = d.Page;

        // Folded by default: only the request a user came for.
        await Expect(d.TraceRows.Filter(new() { HasText = "/orders/" })).ToHaveCountAsync(1);
        await Expect(page.Locator("#routine-count")).ToHaveTextAsync("5 routine hidden");
        await Expect(d.TraceRows).ToHaveCountAsync(1);

        // One toggle shows them, marked as routine.
        await page.CheckAsync("#f-routine");
        await Expect(d.TraceRows).ToHaveCountAsync(6);
        await Expect(d.TraceRows.Locator(".flag-routine")).ToHaveCountAsync(5);
        await Expect(page).ToHaveURLAsync(new Regex("routine=1"));
        await page.UncheckAsync("#f-routine");
        await Expect(d.TraceRows).ToHaveCountAsync(1);

        // Searching finds them folded or not.
        await page.FillAsync("#f-name", "app.js");
        await Expect(d.TraceRows.Filter(new() { HasText = "GET /app.js" })).ToHaveCountAsync(1);
        await page.ClickAsync("#f-clear");

        // They still count in the figures.
        using var metrics = JsonDocument.Parse(await app.Client.GetStringAsync("_flowscope/api/metrics"));
        Assert.True(metrics.RootElement.GetProperty("requestsTotal").GetInt64() >= 6);
        d.AssertNoErrors();
    }
}
