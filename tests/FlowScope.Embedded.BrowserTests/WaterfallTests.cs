using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace FlowScope.Embedded.BrowserTests;

/// <summary>
/// The waterfall fills its pane, names stay visible at any depth, failed traces open at their first error, keys walk
/// the errors and find the slowest span, a flame graph draws the same trace, and N+1 queries are flagged and grouped.
/// </summary>
[Collection(BrowserSuite.Name)]
public sealed class WaterfallTests(BrowserFixture fixture)
{
    [Fact]
    public async Task The_waterfall_uses_the_pane_s_height_and_names_stay_visible_at_any_depth()
    {
        await using var app = await ApiTestApp.StartAsync();
        Assert.Equal(200, await app.GetAsync("deep/40"));
        await using var d = await DashboardPage.OpenAsync(fixture, app.Dashboard, 1600, 1000);
        var page = d.Page;
        await d.TraceRows.Filter(new() { HasText = "/deep/" }).First.ClickAsync();
        await Expect(d.SpanRows.Filter(new() { HasTextRegex = new Regex("level 1 of") })).ToHaveCountAsync(1);

        // No span selected: the rows take the pane below the trace's header and toolbar, no empty box under them.
        var pane = (await page.Locator(".detail-pane").BoundingBoxAsync())!;
        var rows = (await page.Locator(".detail-pane .wf-scroll").BoundingBoxAsync())!;
        Assert.True(rows.Y + rows.Height >= pane.Y + pane.Height - 2, $"the waterfall ends at {rows.Y + rows.Height}, the pane at {pane.Y + pane.Height}");
        Assert.True(rows.Height >= pane.Height * 0.7, $"the waterfall is {rows.Height} px of a {pane.Height} px pane");
        await Expect(page.Locator(".detail-pane .span-detail")).ToBeHiddenAsync();

        // The deepest span: its name has room (the indent stops growing), its level is shown, its tooltip has the path.
        await page.Locator(".detail-pane .wf-scroll").EvaluateAsync("el => { el.scrollTop = el.scrollHeight; }");
        var deepest = d.SpanRows.Filter(new() { HasText = "level 40 " });
        await Expect(deepest).ToBeInViewportAsync();
        var name = (await deepest.Locator(".span-name").BoundingBoxAsync())!;
        Assert.True(name.Width >= 150, $"the name of the span 41 levels deep is {name.Width} px wide");
        await Expect(deepest.Locator(".depth-badge")).ToHaveTextAsync("L" + await deepest.GetAttributeAsync("aria-level"));
        await Expect(deepest.Locator(".wc-name")).ToHaveAttributeAsync("title", new Regex("^level 40 of the nested work with a long descriptive name\nin … › .*level 39"));

        // Selecting a span opens its panel below, and it can be closed again.
        await deepest.ClickAsync();
        await Expect(page.Locator(".span-detail h3")).ToHaveTextAsync(new Regex("^level 40 "));
        await page.Locator(".span-detail button[aria-label='Close the span panel']").ClickAsync();
        await Expect(page.Locator(".detail-pane .span-detail")).ToBeHiddenAsync();
        d.AssertNoErrors();
    }

    [Fact]
    public async Task A_failed_trace_opens_at_its_first_error_and_keys_walk_errors_and_find_the_slowest_span()
    {
        await using var app = await ApiTestApp.StartAsync();
        Assert.Equal(200, await app.GetAsync("fail-deep"));
        await using var d = await DashboardPage.OpenAsync(fixture, app.Dashboard, 1600, 1000);
        var page = d.Page;
        await d.TraceRows.Filter(new() { HasText = "/fail-deep" }).First.ClickAsync();

        // Opened at the failure, nine levels down, without scrolling or expanding anything.
        var selected = page.Locator(".wf-scroll .wrow.selected");
        await Expect(selected).ToHaveClassAsync(new Regex("is-error"));
        await Expect(selected.Locator(".span-name")).ToHaveTextAsync(new Regex("^level 9 "));
        await Expect(selected).ToBeInViewportAsync();
        await Expect(page.Locator(".span-detail")).ToContainTextAsync("The nested step failed on purpose.");
        await Expect(page).ToHaveURLAsync(new Regex("trace=[0-9a-f]{32}$")); // opening at the error is not a navigation

        // S: the span with the most self time; E and Shift+E: next and previous error.
        await page.Keyboard.PressAsync("s");
        await Expect(selected.Locator(".span-name")).Not.ToHaveTextAsync(new Regex("^level 9 "));
        var slowest = await selected.GetAttributeAsync("data-span-id");
        await page.Keyboard.PressAsync("e");
        await Expect(selected.Locator(".span-name")).ToHaveTextAsync(new Regex("^level 9 "));
        await page.Keyboard.PressAsync("Shift+E");
        await Expect(selected).ToHaveClassAsync(new Regex("is-error"));
        await Expect(page.Locator("#wf-next-error")).ToHaveTextAsync("1 error ›");

        // F: the flame graph of the same trace; a bar selects its span.
        await page.Keyboard.PressAsync("f");
        var bars = page.Locator(".flame-bar");
        await Expect(bars).ToHaveCountAsync(await ExpectedSpansAsync(page));
        await Expect(page.Locator(".flame-bar.is-error")).ToHaveCountAsync(1);
        await bars.Filter(new() { HasText = "level 12 " }).ClickAsync();
        await Expect(page.Locator(".span-detail h3")).ToHaveTextAsync(new Regex("^level 12 "));
        await Expect(bars.Filter(new() { HasText = "level 12 " })).ToHaveAttributeAsync("aria-selected", "true");
        await page.Keyboard.PressAsync("f");
        await Expect(page.Locator(".wf-scroll")).ToBeVisibleAsync();
        Assert.NotNull(slowest);
        d.AssertNoErrors();
    }

    private static async Task<int> ExpectedSpansAsync(IPage page)
    {
        var text = await page.Locator(".trace-header .meta div", new() { HasText = "Spans" }).Locator("dd").TextContentAsync();
        return int.Parse(text!.Replace(",", "", StringComparison.Ordinal), System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task N_plus_one_queries_are_badged_filtered_grouped_in_one_row_and_counted_per_route()
    {
        await using var app = await ApiTestApp.StartAsync();
        Assert.Equal(200, await app.GetAsync("articles"));
        Assert.Equal(200, await app.GetAsync("orders/3"));
        await using var d = await DashboardPage.OpenAsync(fixture, app.Dashboard, 1600, 1000);
        var page = d.Page;

        // The list: a badge on the trace, and a filter.
        var row = d.TraceRows.Filter(new() { HasText = "/articles" });
        await Expect(row.Locator(".flag-nplus")).ToHaveTextAsync($"N+1 ×{ApiTestApp.ArticleCount}");
        await page.CheckAsync("#f-nplus");
        await Expect(d.TraceRows).ToHaveCountAsync(1);
        await Expect(d.TraceRows.First).ToContainTextAsync("/articles");

        // The waterfall: the 23 calls of one statement are one row, "× 23 SELECT … · 41 ms", under the span that ran them.
        await d.TraceRows.First.ClickAsync();
        var group = page.Locator(".wf-scroll .wrow-group");
        await Expect(group).ToHaveCountAsync(1);
        await Expect(group.Locator(".group-text")).ToHaveTextAsync(new Regex($@"^× {ApiTestApp.ArticleCount} SELECT .* · [\d.]+ (µs|ms)$"));
        await Expect(group.Locator(".flag-nplus")).ToHaveTextAsync("N+1");
        await Expect(d.SpanRows.Filter(new() { HasText = "SELECT Comments" })).ToHaveCountAsync(0);
        await Expect(d.SpanRows.Filter(new() { HasText = "SELECT Articles" })).ToHaveCountAsync(1);
        await Expect(d.SpanRows.Filter(new() { HasText = "load article comments" }).Locator(".flag-nplus")).ToHaveTextAsync($"N+1 ×{ApiTestApp.ArticleCount}");

        // Expanded on demand: every call, each with its statement.
        await group.Locator(".toggle").ClickAsync();
        await Expect(d.SpanRows.Filter(new() { HasText = "SELECT Comments" })).ToHaveCountAsync(ApiTestApp.ArticleCount);
        await d.SpanRows.Filter(new() { HasText = "load article comments" }).ClickAsync();
        await Expect(page.Locator(".span-detail .nplus-callout")).ToContainTextAsync($"N+1: {ApiTestApp.ArticleCount} ×");
        await Expect(page.Locator(".span-detail .nplus-callout code")).ToHaveTextAsync(ApiTestApp.RepeatedStatement);

        // Queries per request, per route, in the metrics (the flow map's summary).
        await page.Keyboard.PressAsync("2");
        var route = page.Locator("#map-card .queries-table tr", new() { HasText = "GET /articles" });
        await Expect(route).ToContainTextAsync((ApiTestApp.ArticleCount + 1).ToString(System.Globalization.CultureInfo.InvariantCulture));
        await Expect(route).ToHaveClassAsync(new Regex("has-nplus"));

        // The statement's markup stayed text everywhere.
        Assert.Equal("undefined", await page.EvaluateAsync<string>("typeof window.__xss"));
        Assert.Equal(0, await page.Locator("img").CountAsync());
        d.AssertNoErrors();
    }
}
