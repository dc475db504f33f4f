using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace FlowScope.Embedded.BrowserTests;

[Collection(BrowserSuite.Name)]
public sealed class LiveListTests(BrowserFixture fixture)
{
    [Fact]
    public async Task A_trace_arrives_live_over_the_stream()
    {
        await using var d = await DashboardPage.OpenAsync(fixture, fixture.App.Dashboard);
        await d.WaitLiveAsync();
        await Expect(d.TraceRows.Filter(new() { HasText = "/teapot-live" })).ToHaveCountAsync(0);

        // Sent after the page is connected: only the live stream can bring it.
        await fixture.App.GetAsync("hello/4711");
        var row = d.TraceRows.Filter(new() { HasText = "GET /hello/{id:int}" }).First;
        await Expect(row).ToBeVisibleAsync();
        await Expect(d.Page.Locator("#m-rps")).Not.ToHaveTextAsync("–");
        d.AssertNoErrors();
    }

    [Fact]
    public async Task Filters_narrow_the_list_and_the_url_and_back_button_follow()
    {
        await fixture.App.GetAsync("hello/1");
        await fixture.App.GetAsync("boom");
        await fixture.App.GetAsync("slow");
        await fixture.App.GetAsync("nested");
        await fixture.App.GetAsync("orders/3");
        await using var d = await DashboardPage.OpenAsync(fixture, fixture.App.Dashboard);
        var page = d.Page;
        foreach (var name in new[] { "/boom", "/slow", "/nested", "/orders/" })
        {
            await Expect(d.TraceRows.Filter(new() { HasText = name }).First).ToBeVisibleAsync();
        }

        // Name / route.
        await page.FillAsync("#f-name", "boom");
        await Expect(d.TraceRows.Filter(new() { HasNotText = "boom" })).ToHaveCountAsync(0);
        await Expect(d.TraceRows.First).ToContainTextAsync("/boom");
        await Expect(page).ToHaveURLAsync(new Regex("name=boom"));

        // Errors only.
        await page.ClickAsync("#f-clear");
        await page.CheckAsync("#f-errors");
        await Expect(page.Locator("#list-scroll .trow:not(.is-error)")).ToHaveCountAsync(0);
        await Expect(d.TraceRows.First).ToBeVisibleAsync();

        // Duration range.
        await page.ClickAsync("#f-clear");
        await page.FillAsync("#f-min", "100");
        await Expect(page).ToHaveURLAsync(new Regex("min=100")); // written after the filter is applied
        await Expect(d.TraceRows.Filter(new() { HasText = "/slow" }).First).ToBeVisibleAsync();
        var durations = await d.TraceRows.Locator(".dur-text").AllTextContentsAsync();
        Assert.NotEmpty(durations);
        Assert.All(durations, text => Assert.True(ParseMs(text) >= 100, $"{text} is below the 100 ms minimum"));

        // Component.
        await page.ClickAsync("#f-clear");
        await page.SelectOptionAsync("#f-component", "database");
        await Expect(d.TraceRows.Filter(new() { HasNotText = "/orders/" })).ToHaveCountAsync(0);
        await Expect(d.TraceRows.First).ToBeVisibleAsync();

        // Full-text search reaches attribute values (server side).
        await page.ClickAsync("#f-clear");
        await page.FillAsync("#f-q", "A-42");
        await Expect(d.TraceRows.Filter(new() { HasNotText = "/nested" })).ToHaveCountAsync(0);
        await Expect(d.TraceRows.First).ToBeVisibleAsync();

        // Attribute key=value.
        await page.ClickAsync("#f-clear");
        await page.FillAsync("#f-attr", "db.namespace=shop");
        await Expect(d.TraceRows.Filter(new() { HasNotText = "/orders/" })).ToHaveCountAsync(0);
        await Expect(d.TraceRows.First).ToBeVisibleAsync();

        // A custom time range (local time in the inputs, ISO 8601 in the URL).
        await page.ClickAsync("#f-clear");
        await page.SelectOptionAsync("#f-range", "custom");
        await Expect(page.Locator("#f-from")).ToBeVisibleAsync();
        await page.FillAsync("#f-from", DateTime.Now.AddHours(1).ToString("yyyy-MM-ddTHH:mm", System.Globalization.CultureInfo.InvariantCulture));
        await Expect(d.TraceRows).ToHaveCountAsync(0);
        await Expect(page.Locator("#list-empty")).ToHaveTextAsync("No traces match the filters.");
        await page.FillAsync("#f-from", DateTime.Now.AddHours(-1).ToString("yyyy-MM-ddTHH:mm", System.Globalization.CultureInfo.InvariantCulture));
        await Expect(d.TraceRows.Filter(new() { HasText = "/nested" }).First).ToBeVisibleAsync();
        await Expect(page).ToHaveURLAsync(new Regex("range=custom&from=20"));

        // Sort by duration: slowest first.
        await page.ClickAsync("#f-clear");
        await page.SelectOptionAsync("#f-sort", "duration");
        await Expect(page).ToHaveURLAsync(new Regex("sort=duration"));

        // The URL changes at once; the rows when the sorted page arrives. Wait (bounded) for rows in duration order,
        // then read them; on a timeout the assertions below show what the list held.
        try
        {
            await page.WaitForFunctionAsync(
                """
                () => {
                    const ms = [...document.querySelectorAll('#list-scroll .trow')]
                        .sort((a, b) => a.dataset.index - b.dataset.index)
                        .map(r => {
                            const m = /^([\d.]+) (µs|ms|s)$/.exec(r.querySelector('.dur-text').textContent.trim());
                            return !m ? NaN : m[2] === 'µs' ? m[1] / 1000 : m[2] === 's' ? m[1] * 1000 : +m[1];
                        });
                    return ms.length >= 4 && ms.every((v, i) => i === 0 || ms[i - 1] >= v);
                }
                """,
                null,
                new() { Timeout = 10_000 });
        }
        catch (TimeoutException)
        {
        }

        var texts = await page.EvaluateAsync<string[]>(
            "() => [...document.querySelectorAll('#list-scroll .trow')].sort((a, b) => a.dataset.index - b.dataset.index).map(r => r.querySelector('.dur-text').textContent)");
        var sorted = texts.Select(ParseMs).ToList();
        Assert.True(sorted.Count >= 4);
        Assert.Equal(sorted.OrderByDescending(x => x), sorted);

        // Selecting a trace is in the URL; Back closes it again.
        await d.TraceRows.First.ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("trace=[0-9a-f]{32}"));
        await Expect(d.SpanRows.First).ToBeVisibleAsync();
        await page.GoBackAsync();
        await Expect(page).Not.ToHaveURLAsync(new Regex("trace="));
        await Expect(page.Locator(".detail-pane .empty")).ToBeVisibleAsync();

        // A deep link restores filters and selection.
        await page.GotoAsync(fixture.App.Dashboard + "?name=slow");
        await Expect(page.Locator("#f-name")).ToHaveValueAsync("slow");
        await Expect(d.TraceRows.Filter(new() { HasNotText = "/slow" })).ToHaveCountAsync(0);
        d.AssertNoErrors();
    }

    [Fact]
    public async Task The_list_and_the_waterfall_work_from_the_keyboard()
    {
        await fixture.App.GetAsync("nested");
        await fixture.App.GetAsync("hello/5");
        await using var d = await DashboardPage.OpenAsync(fixture, fixture.App.Dashboard);
        var page = d.Page;
        await Expect(d.TraceRows.Nth(1)).ToBeVisibleAsync();
        await page.Locator("#list-scroll").FocusAsync();
        await page.Keyboard.PressAsync("Home");
        await page.Keyboard.PressAsync("ArrowDown");
        await Expect(page.Locator("#list-scroll .trow.cursor")).ToHaveAttributeAsync("data-index", "1");
        var id = await page.Locator("#list-scroll .trow.cursor").GetAttributeAsync("data-id");
        await page.Keyboard.PressAsync("Enter");
        await Expect(page).ToHaveURLAsync(new Regex($"trace={id}"));
        await Expect(d.SpanRows.First).ToBeVisibleAsync();

        // Waterfall: Down moves, Enter selects a span, Left collapses the root.
        await page.Locator(".detail-pane .wf-scroll").FocusAsync();
        await page.Keyboard.PressAsync("ArrowDown");
        await page.Keyboard.PressAsync("Enter");
        await Expect(page).ToHaveURLAsync(new Regex("span=[0-9a-f]{16}"));
        await page.Keyboard.PressAsync("Home");
        await page.Keyboard.PressAsync("ArrowLeft");
        await Expect(d.SpanRows).ToHaveCountAsync(1);
        await page.Keyboard.PressAsync("ArrowRight");
        await Expect(d.SpanRows.Nth(1)).ToBeVisibleAsync();

        // Esc closes the trace; the view keys switch tabs.
        await page.Keyboard.PressAsync("Escape");
        await Expect(page.Locator(".detail-pane .empty")).ToBeVisibleAsync();
        await page.Keyboard.PressAsync("2");
        await Expect(page.Locator("#tab-map")).ToHaveAttributeAsync("aria-selected", "true");
        await page.Keyboard.PressAsync("1");
        await Expect(page.Locator("#tab-traces")).ToHaveAttributeAsync("aria-selected", "true");
        d.AssertNoErrors();
    }

    /// <summary>Parses the list's duration text ("946 µs", "45.2 ms", "1.24 s").</summary>
    private static double ParseMs(string text)
    {
        var m = Regex.Match(text.Trim(), @"^([\d.]+) (µs|ms|s)$");
        Assert.True(m.Success, $"unexpected duration text '{text}'");
        var value = double.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        return m.Groups[2].Value switch { "µs" => value / 1000, "s" => value * 1000, _ => value };
    }

    [Fact]
    public async Task Pause_holds_new_traces_until_resumed()
    {
        await fixture.App.GetAsync("hello/2");
        await using var d = await DashboardPage.OpenAsync(fixture, fixture.App.Dashboard);
        await d.WaitLiveAsync();
        await Expect(d.TraceRows.Filter(new() { HasText = "GET /hello/{id:int}" }).First).ToBeVisibleAsync();
        await d.Page.ClickAsync("#pause");
        await Expect(d.Page.Locator("#conn")).ToHaveAttributeAsync("data-state", "paused");
        var before = await d.Page.Locator("#count").TextContentAsync();

        await fixture.App.GetAsync("hello/31337");
        await Expect(d.Page.Locator("#pending")).ToHaveTextAsync("paused — 1 update waiting");
        await Expect(d.Page.Locator("#count")).ToHaveTextAsync(before!);

        await d.Page.ClickAsync("#pause");
        await Expect(d.Page.Locator("#pending")).ToBeHiddenAsync();
        await Expect(d.Page.Locator("#count")).Not.ToHaveTextAsync(before!);
        d.AssertNoErrors();
    }
}
