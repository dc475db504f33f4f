using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace FlowScope.Embedded.BrowserTests;

/// <summary>Compare draws both traces on one time scale (or each on its own) and picks the closest trace of the route as B.</summary>
[Collection(BrowserSuite.Name)]
public sealed class CompareTests(BrowserFixture fixture)
{
    private static Task<double> RootBarWidthAsync(IPage page, string side) =>
        page.Locator($"#view-compare .diff-row:not(.diff-head) .diff-bar-{side}").First.EvaluateAsync<double>("el => el.getBoundingClientRect().width");

    [Fact]
    public async Task Both_traces_share_one_time_scale_unless_asked_and_B_is_the_closest_trace_of_the_same_route()
    {
        await using var app = await ApiTestApp.StartAsync();
        Assert.Equal(200, await app.GetAsync("wait/150"));
        Assert.Equal(200, await app.GetAsync("deep/3"));
        Assert.Equal(200, await app.GetAsync("deep/30"));
        Assert.Equal(200, await app.GetAsync("wait/15"));
        Assert.Equal(200, await app.GetAsync("deep/4"));
        await using var d = await DashboardPage.OpenAsync(fixture, app.Dashboard, 1600, 1000);
        var page = d.Page;

        // B for a 3-level trace: the 4-level one of the same route (closest in shape), not the newer or the 30-level one.
        await page.FillAsync("#f-name", "deep");
        await Expect(d.TraceRows).ToHaveCountAsync(3);
        var spans = await d.TraceRows.EvaluateAllAsync<int[]>("rows => rows.map(r => Number(r.querySelector('.c-spans').textContent))");
        var smallest = spans.Min();
        await d.TraceRows.Filter(new() { Has = page.Locator(".c-spans", new() { HasTextRegex = new Regex($"^{smallest}$") }) }).ClickAsync();
        await page.Locator(".trace-header button", new() { HasText = "Compare" }).ClickAsync();
        await Expect(page.Locator("#view-compare .compare-card").Nth(1)).ToContainTextAsync($"{smallest + 1} spans");

        // One time scale: a 15 ms trace draws a tenth as long as a 150 ms one.
        await page.Keyboard.PressAsync("1");
        await page.FillAsync("#f-name", "wait");
        await Expect(d.TraceRows).ToHaveCountAsync(2);
        var faster = await d.TraceRows.EvaluateAllAsync<string>(
            "rows => rows.map(r => ({ id: r.dataset.id, ms: parseFloat(r.querySelector('.dur-text').textContent) * (/µs/.test(r.textContent) ? 0.001 : 1) })).sort((x, y) => x.ms - y.ms)[0].id");
        await page.Locator($"#list-scroll .trow[data-id='{faster}']").ClickAsync();
        await page.Locator(".trace-header button", new() { HasText = "Compare" }).ClickAsync();
        await Expect(page.Locator("#view-compare .diff-row:not(.diff-head)").First).ToBeVisibleAsync();
        var a = await RootBarWidthAsync(page, "a");
        var b = await RootBarWidthAsync(page, "b");
        Assert.InRange(a / b, 0.05, 0.2);
        var shared = await page.Locator("#view-compare .diff-head .scale").First.TextContentAsync();
        Assert.Equal(shared, await page.Locator("#view-compare .diff-head .scale").Last.TextContentAsync());

        // Each on its own scale: both roots span their whole time line.
        await page.CheckAsync("#compare-own-scale");
        await Expect(page.Locator("#view-compare .diff-head .scale").First).Not.ToHaveTextAsync(shared!);
        a = await RootBarWidthAsync(page, "a");
        b = await RootBarWidthAsync(page, "b");
        Assert.InRange(a / b, 0.9, 1.1);
        d.AssertNoErrors();
    }
}
