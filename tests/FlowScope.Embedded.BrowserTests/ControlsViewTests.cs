using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace FlowScope.Embedded.BrowserTests;

/// <summary>The Controls view against the real operator API: fault injection and simulators.</summary>
[Collection(BrowserSuite.Name)]
public sealed partial class ControlsViewTests(BrowserFixture fixture)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task A_delay_injected_from_the_form_slows_the_next_request_marks_its_span_and_stops_with_one_click()
    {
        await using var app = await BrowserTestApp.StartAsync(configure: o => o.EnableFaultInjection = true);
        await app.GetAsync("nested"); // builds the pipeline, so its middleware is listed
        await using var d = await DashboardPage.OpenAsync(fixture, new Uri(app.Dashboard, "?view=controls"));
        var page = d.Page;

        // The form: a middleware from the list, a fixed 150 ms delay.
        var middleware = await PickMiddlewareAsync(page);
        var name = middleware[(middleware.IndexOf(':', StringComparison.Ordinal) + 1)..];
        await page.SelectOptionAsync("#fi-target", middleware);
        await page.FillAsync("#fi-delay", "150");
        await page.ClickAsync("#fi-submit");
        var row = page.Locator("#fi-table tbody tr").Filter(new() { HasText = name });
        await Expect(row).ToHaveCountAsync(1);
        await Expect(row).ToContainTextAsync("delay 150 ms");
        await Expect(row.Locator(".c-left")).ToHaveTextAsync(new Regex(@"^[45]m \d\ds$")); // 5 minutes by default

        // The next request is slowed in that middleware, and its span says so.
        await app.GetAsync("hello/2");
        await Expect(row.Locator("td.num").First).ToHaveTextAsync(new Regex("^[1-9]")); // the hit, seen by the 2 s refresh
        await page.ClickAsync("#tab-traces");
        var trace = d.TraceRows.Filter(new() { HasText = "/hello/" });
        await Expect(trace).ToHaveCountAsync(1);
        await trace.ClickAsync();
        var span = d.SpanRows.Filter(new() { Has = page.Locator(".fault-badge") });
        await Expect(span).ToHaveCountAsync(1);
        await Expect(span.Locator(".span-name")).ToHaveTextAsync(name);
        await Expect(span.Locator(".fault-badge")).ToHaveAttributeAsync("title", new Regex("delay of 150 ms"));
        Assert.True(ParseMs(await span.Locator(".wc-num").First.TextContentAsync()) >= 150);
        await span.ClickAsync();
        await Expect(page.Locator(".span-detail .fault-callout")).ToContainTextAsync("Not a real slowdown or failure.");
        await Expect(page.Locator(".span-detail .attrs").First).ToContainTextAsync("flowscope.fault.delay_ms");
        var others = d.SpanRows.Filter(new() { HasNot = page.Locator(".fault-badge") });
        Assert.True(await others.CountAsync() > 0);

        // One click stops it: gone from the view and from the API.
        await page.Keyboard.PressAsync("5");
        await row.Locator("button", new() { HasText = "Stop" }).ClickAsync();
        await Expect(row).ToHaveCountAsync(0);
        await Expect(page.Locator("#fi-empty")).ToBeVisibleAsync();
        using var faults = JsonDocument.Parse(await app.GetAsync("_flowscope/api/faults"));
        Assert.Equal(0, faults.RootElement.GetProperty("faults").GetArrayLength());
        d.AssertNoErrors();
    }

    [Fact]
    public async Task With_fault_injection_disabled_the_panel_says_so_and_the_form_is_disabled()
    {
        await using var app = await BrowserTestApp.StartAsync(flowScope: BrowserTestApp.AddTestSimulators);
        await using var d = await DashboardPage.OpenAsync(fixture, app.Dashboard);
        var page = d.Page;
        await page.Keyboard.PressAsync("5");
        await Expect(page).ToHaveURLAsync(new Regex("view=controls"));

        await Expect(page.Locator("#fi-note")).ToContainTextAsync("Fault injection is disabled");
        await Expect(page.Locator("#fi-note")).ToContainTextAsync("FlowScope:EnableFaultInjection");
        await Expect(page.Locator("#fi-form fieldset")).ToBeDisabledAsync();
        await Expect(page.Locator("#fi-submit")).ToBeDisabledAsync();
        await Expect(page.Locator("#fi-stop-all")).ToBeDisabledAsync();

        // Simulators do not depend on fault injection: a loopback caller may still start them.
        await Expect(page.Locator("#controls-access")).ToHaveTextAsync("operator");
        await Expect(page.Locator("#sim-table tr[data-simulator='chat'] .sim-start")).ToBeEnabledAsync();
        d.AssertNoErrors();
    }

    [Fact]
    public async Task A_simulator_started_from_its_row_runs_and_stops_when_told()
    {
        await using var app = await BrowserTestApp.StartAsync(flowScope: BrowserTestApp.AddTestSimulators);
        await using var d = await DashboardPage.OpenAsync(fixture, new Uri(app.Dashboard, "?view=controls"));
        var page = d.Page;
        var row = page.Locator("#sim-table tr[data-simulator='chat']");
        await Expect(row).ToContainTextAsync("A user posts a message to the lobby");
        await Expect(row.Locator(".state")).ToHaveTextAsync("stopped");
        await Expect(row.Locator(".c-runs")).ToHaveTextAsync("0");
        await Expect(row.Locator(".sim-rate")).ToHaveValueAsync("20");

        // Start: the row says running and its runs climb with the 2 s refresh.
        await row.Locator(".sim-start").ClickAsync();
        await Expect(row.Locator(".state")).ToContainTextAsync("running");
        var first = await WaitForRunsAsync(row, runs => runs > 0);
        await WaitForRunsAsync(row, runs => runs > first);

        // A new rate, applied.
        await row.Locator(".sim-rate").FillAsync("40");
        await row.Locator(".sim-apply").ClickAsync();
        await Expect(row.Locator(".ctl-error")).ToBeHiddenAsync();
        using (var sims = JsonDocument.Parse(await app.GetAsync("_flowscope/api/simulators")))
        {
            var chat = sims.RootElement.GetProperty("simulators").EnumerateArray().Single(s => s.GetProperty("name").GetString() == "chat");
            Assert.Equal(40, chat.GetProperty("ratePerSecond").GetDouble());
        }

        // Stop: runs no longer increase across the next refreshes.
        await row.Locator(".sim-stop").ClickAsync();
        await Expect(row.Locator(".state")).ToHaveTextAsync("stopped");
        await WaitForRefreshesAsync(page, 1);
        var stopped = Runs(await row.Locator(".c-runs").TextContentAsync());
        await WaitForRefreshesAsync(page, 2); // at 40 runs/s, a running simulator would have added ~100 by now
        Assert.Equal(stopped, Runs(await row.Locator(".c-runs").TextContentAsync()));

        // Its runs are traces of their own, component "simulator".
        await row.Locator("button", new() { HasText = "traces" }).ClickAsync();
        await Expect(page.Locator("#f-name")).ToHaveValueAsync("simulate chat");
        await Expect(d.TraceRows.First).ToContainTextAsync("simulate chat");
        await d.TraceRows.First.ClickAsync();
        await Expect(d.SpanRows.First.Locator(".tag")).ToHaveTextAsync("simulator");
        await Expect(d.SpanRows.Filter(new() { HasText = "send chat message" })).ToHaveCountAsync(1);
        d.AssertNoErrors();
    }

    [Fact]
    public async Task The_controls_view_with_an_active_injection_and_a_running_simulator_is_screenshotted()
    {
        await using var app = await BrowserTestApp.StartAsync(configure: o => o.EnableFaultInjection = true, flowScope: BrowserTestApp.AddTestSimulators);
        for (var i = 0; i < 3; i++)
        {
            await app.GetAsync($"orders/{i}");
            await app.GetAsync($"signup/{i}");
        }

        await using var d = await DashboardPage.OpenAsync(fixture, new Uri(app.Dashboard, "?view=controls"), height: 600);
        var page = d.Page;
        try
        {
            // A random 40–120 ms delay on the orders endpoint, and a 30 % failure rate on the e-mail queue's handler.
            await page.SelectOptionAsync("#fi-target", "endpoint:/orders/{id:int}");
            await page.FillAsync("#fi-delay", "40");
            await page.FillAsync("#fi-delay-max", "120");
            await page.ClickAsync("#fi-submit");
            await Expect(page.Locator("#fi-table tbody tr")).ToHaveCountAsync(1);
            await page.SelectOptionAsync("#fi-target", "queue:emails");
            await page.FillAsync("#fi-delay", string.Empty);
            await page.FillAsync("#fi-delay-max", string.Empty);
            await page.FillAsync("#fi-failure", "30");
            await page.SelectOptionAsync("#fi-unit", "hits");
            await page.FillAsync("#fi-limit", "50");
            await page.ClickAsync("#fi-submit");
            await Expect(page.Locator("#fi-table tbody tr")).ToHaveCountAsync(2);
            await page.Locator("#sim-table tr[data-simulator='chat'] .sim-start").ClickAsync();
            await page.Locator("#sim-table tr[data-simulator='checkout'] .sim-start").ClickAsync();
            for (var i = 10; i < 16; i++)
            {
                await app.GetAsync($"orders/{i}");
                await app.GetAsync($"signup/{i}");
            }

            var orders = page.Locator("#fi-table tbody tr").Filter(new() { HasText = "/orders/" });
            await Expect(orders.Locator("td.num").First).ToHaveTextAsync("6");
            await Expect(page.Locator("#sim-table tr[data-simulator='checkout'] .c-failures")).Not.ToHaveTextAsync("0");
            await Expect(page.Locator("#sim-table tr[data-simulator='checkout'] .c-last-error")).ToContainTextAsync("The cart was empty.");
            await page.EvaluateAsync("() => document.activeElement?.blur()"); // no focus ring or hover in the picture
            await page.Mouse.MoveAsync(700, 590);
            await page.ScreenshotAsync(new() { Path = Path.Combine(ScreenshotDir(), "controls.png") });

            // A trace slowed on purpose: the injected span is marked in the waterfall.
            await page.SetViewportSizeAsync(1440, 900);
            await page.ClickAsync("#tab-traces");
            await page.FillAsync("#f-name", "/orders/");
            await page.FillAsync("#f-attr", "flowscope.fault.id");
            await Expect(d.TraceRows.Filter(new() { HasNotText = "/orders/" })).ToHaveCountAsync(0);
            await d.TraceRows.First.ClickAsync();
            var injected = d.SpanRows.Filter(new() { Has = page.Locator(".fault-badge") });
            await Expect(injected).ToHaveCountAsync(1);
            await injected.ClickAsync();
            await Expect(page.Locator(".span-detail .fault-callout")).ToBeVisibleAsync();
            await page.ScreenshotAsync(new() { Path = Path.Combine(ScreenshotDir(), "trace-injected.png") });
        }
        finally
        {
            await page.ClickAsync("#tab-controls");
            await page.ClickAsync("#fi-stop-all");
            await Expect(page.Locator("#fi-empty")).ToBeVisibleAsync();
        }

        d.AssertNoErrors();
    }

    // The docs' screenshots come from the sample (SampleDashboardTests); these, of the test app, stay with the build.
    private static string ScreenshotDir()
    {
        var dir = Path.Combine(AppContext.BaseDirectory, "screenshots", "test-app");
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>The value of a middleware in the target list (EndpointRoutingMiddleware when there is one).</summary>
    private static async Task<string> PickMiddlewareAsync(IPage page)
    {
        var options = page.Locator("#fi-target optgroup[label='middleware'] option");
        await Expect(options.First).ToBeAttachedAsync();
        var routing = options.Filter(new() { HasText = "EndpointRoutingMiddleware" });
        return (await ((await routing.CountAsync()) > 0 ? routing.First : options.First).GetAttributeAsync("value"))!;
    }

    /// <summary>Waits (bounded) until the row's run count satisfies the condition; returns it.</summary>
    private static async Task<long> WaitForRunsAsync(ILocator row, Func<long, bool> condition)
    {
        var deadline = DateTime.UtcNow + Bound;
        while (true)
        {
            var runs = Runs(await row.Locator(".c-runs").TextContentAsync());
            if (condition(runs))
            {
                return runs;
            }

            Assert.True(DateTime.UtcNow < deadline, $"The run count stayed at {runs}.");
            await row.Page.WaitForTimeoutAsync(100);
        }
    }

    /// <summary>Waits until the view has refreshed its data <paramref name="count"/> more times.</summary>
    private static async Task WaitForRefreshesAsync(IPage page, int count)
    {
        var updated = page.Locator("#controls-updated");
        for (var i = 0; i < count; i++)
        {
            var before = await updated.TextContentAsync();
            await Expect(updated).Not.ToHaveTextAsync(before!, new() { Timeout = 10_000 });
        }
    }

    private static long Runs(string? text) => long.Parse(text!.Replace(",", string.Empty, StringComparison.Ordinal).Replace("\u202f", string.Empty, StringComparison.Ordinal), CultureInfo.InvariantCulture);

    private static double ParseMs(string? text)
    {
        var m = DurationRegex().Match(text ?? string.Empty);
        Assert.True(m.Success, $"Not a duration: {text}");
        var value = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        return m.Groups[2].Value == "s" ? value * 1000 : m.Groups[2].Value == "µs" ? value / 1000 : value;
    }

    [GeneratedRegex(@"([\d.]+)\s*(ms|s|µs)")]
    private static partial Regex DurationRegex();
}
