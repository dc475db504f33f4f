using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace FlowScope.Embedded.BrowserTests;

[Collection(BrowserSuite.Name)]
public sealed class DashboardViewsTests(BrowserFixture fixture)
{
    [Fact]
    public async Task The_dashboard_works_under_a_path_base()
    {
        await using var app = await BrowserTestApp.StartAsync(pathBase: "/base");
        Assert.EndsWith("/base/_flowscope/", app.Dashboard.AbsolutePath, StringComparison.Ordinal);
        await using var d = await DashboardPage.OpenAsync(fixture, app.Dashboard);
        var requests = new List<string>();
        d.Page.Request += (_, r) => { lock (requests) { requests.Add(new Uri(r.Url).AbsolutePath); } };
        await d.WaitLiveAsync();

        await app.GetAsync("nested");
        var row = d.TraceRows.Filter(new() { HasText = "/nested" }).First;
        await Expect(row).ToBeVisibleAsync();
        await row.ClickAsync();
        await Expect(d.SpanRows.Filter(new() { HasText = "inner step" })).ToHaveCountAsync(1);
        await d.Page.ClickAsync("#tab-map");
        await Expect(d.Page.Locator("#map-host .node").First).ToBeVisibleAsync();
        await Expect(d.Page.Locator("#m-uptime")).Not.ToHaveTextAsync("–");

        lock (requests)
        {
            Assert.NotEmpty(requests);
            Assert.All(requests, path => Assert.StartsWith("/base/_flowscope/", path, StringComparison.Ordinal));
        }

        d.AssertNoErrors();
    }

    [Fact]
    public async Task The_header_shows_metrics_and_a_notice_when_the_store_evicts_traces()
    {
        await using var app = await BrowserTestApp.StartAsync(configure: o => o.MaxTraces = 3);
        for (var i = 0; i < 8; i++)
        {
            await app.GetAsync($"hello/{i}");
        }

        await using var d = await DashboardPage.OpenAsync(fixture, app.Dashboard);
        var page = d.Page;
        await Expect(page.Locator("#notice")).ToBeVisibleAsync();
        await Expect(page.Locator("#notice")).ToContainTextAsync("evicted");
        await Expect(page.Locator("#stat-evicted-box")).ToHaveClassAsync(new Regex("warn"));
        await Expect(page.Locator("#stat-evicted")).Not.ToHaveTextAsync("0");
        await Expect(page.Locator("#m-p95")).Not.ToHaveTextAsync("–");
        await Expect(page.Locator("#health")).Not.ToHaveAttributeAsync("data-health", "critical");
        Assert.True(await d.TraceRows.CountAsync() <= 3);
        d.AssertNoErrors();
    }

    [Fact]
    public async Task The_flow_map_sends_bubbles_for_live_traces_zooms_and_opens_node_cards()
    {
        await fixture.App.GetAsync("orders/4");
        await using var d = await DashboardPage.OpenAsync(fixture, new Uri(fixture.App.Dashboard, "?view=map"));
        var page = d.Page;
        await d.WaitLiveAsync();
        var queue = page.Locator("#map-host .node[data-id='queue:order-events']");
        await Expect(queue).ToBeVisibleAsync();
        // Edges carry their call count and p50 latency (and their error rate when calls failed).
        await Expect(page.Locator("#map-host .edge-label").First).ToHaveTextAsync(new Regex(@"^[\d,.]+k? · (\d.*% err · )?[\d.]+ (µs|ms|s)$"));

        // A request made now runs as bubbles along the edges it touched.
        await fixture.App.GetAsync("orders/5");
        await Expect(page.Locator("#map-host .bubble").First).ToBeAttachedAsync();

        // Zoom changes the viewport's scale; Fit restores a fitted view.
        var before = await page.Locator("#map-host .viewport").GetAttributeAsync("transform");
        await page.ClickAsync("#map-host .map-controls button[aria-label='Zoom in']");
        await Expect(page.Locator("#map-host .viewport")).Not.ToHaveAttributeAsync("transform", before!);

        // Keyboard: focus the queue node and press Enter to open its card.
        await queue.FocusAsync();
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.Locator("#map-card h3")).ToHaveTextAsync("order-events");
        await Expect(page.Locator("#map-card")).ToContainTextAsync("Called from");
        await page.Locator("#map-card button", new() { HasText = "Show traces" }).ClickAsync();
        await Expect(page.Locator("#f-component")).ToHaveValueAsync("queue");
        await Expect(d.TraceRows.Filter(new() { HasNotText = "/orders/" })).ToHaveCountAsync(0);
        d.AssertNoErrors();
    }

    [Fact]
    public async Task Queue_and_worker_cards_show_depth_retries_dead_letters_and_state()
    {
        await fixture.App.GetAsync("signup/1");
        await fixture.App.GetAsync("signup/2?fail=true");
        await using var d = await DashboardPage.OpenAsync(fixture, new Uri(fixture.App.Dashboard, "?view=map"));
        var page = d.Page;

        // Without a selected node the card lists every queue and worker.
        var worker = page.Locator("#map-card .worker-card[data-name='DigestWorker']");
        await Expect(worker).ToContainTextAsync("running");
        var queueSummary = page.Locator("#map-card .queue-card[data-name='emails']");
        await Expect(queueSummary).ToContainTextAsync("Dead letters");

        // The queue's node card: rates, wait time, retries and the dead letter with its error.
        var node = page.Locator("#map-host .node[data-id='queue:emails']");
        await Expect(node).ToBeVisibleAsync();
        await node.ClickAsync();
        await Expect(page.Locator("#map-card h3")).ToHaveTextAsync("emails");
        await Expect(page.Locator("#map-card")).ToContainTextAsync("Wait p50 / p95");
        await Expect(page.Locator("#map-card .dead-letters")).ToContainTextAsync("The mail server refused user 2.");
        await page.Locator("#map-card .dead-letters button").First.ClickAsync();
        await Expect(page.Locator("#tab-traces")).ToHaveAttributeAsync("aria-selected", "true");
        await Expect(d.SpanRows.First).ToBeVisibleAsync();
        d.AssertNoErrors();
    }

    [Fact]
    public async Task Compare_shows_spans_present_in_one_trace_only_and_duration_differences()
    {
        await fixture.App.GetAsync("orders/1");
        await fixture.App.GetAsync("orders/2");
        await fixture.App.GetAsync("nested");
        await using var d = await DashboardPage.OpenAsync(fixture, fixture.App.Dashboard);
        var page = d.Page;
        await page.FillAsync("#f-name", "orders");
        await Expect(d.TraceRows.Filter(new() { HasNotText = "/orders/" })).ToHaveCountAsync(0);
        await d.TraceRows.First.ClickAsync();
        await page.Locator(".trace-header button", new() { HasText = "Compare" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("view=compare.*&a=[0-9a-f]{32}&b=[0-9a-f]{32}"));

        // Two traces of the same operation: every span matched, durations compared.
        var rows = page.Locator("#view-compare .diff-row:not(.diff-head)");
        await Expect(rows.Filter(new() { HasText = "SELECT orders" })).ToHaveCountAsync(1);
        await Expect(page.Locator("#view-compare .compare-summary")).ToContainTextAsync("0 span(s) only in A · 0 only in B · 8 matched");
        await Expect(rows.Locator(".delta").First).Not.ToBeEmptyAsync();

        // Against a different operation the spans of each side show up as present in one trace only.
        var nested = await FirstTraceIdAsync(page, d, "nested");
        await page.ClickAsync("#tab-compare");
        var a = await page.Locator("#compare-a").InputValueAsync();
        await page.GotoAsync(fixture.App.Dashboard + $"?view=compare&a={a}&b={nested}");
        await Expect(page.Locator("#view-compare .compare-summary")).ToContainTextAsync("These traces are different operations.");
        await Expect(page).ToHaveURLAsync(new Regex($"a={a}&b={nested}"));
        await Expect(rows.Filter(new() { HasText = "inner step" }).Locator(".pill-b")).ToHaveCountAsync(1);
        await Expect(rows.Filter(new() { HasText = "SELECT orders" }).Locator(".pill-a")).ToHaveCountAsync(1);
        d.AssertNoErrors();
    }

    private static async Task<string> FirstTraceIdAsync(IPage page, DashboardPage d, string name)
    {
        await page.ClickAsync("#tab-traces");
        await page.FillAsync("#f-name", name);
        await Expect(d.TraceRows.Filter(new() { HasNotText = name })).ToHaveCountAsync(0);
        return (await d.TraceRows.First.GetAttributeAsync("data-id"))!;
    }

    [Fact]
    public async Task Every_view_renders_without_console_errors_and_screenshots_are_saved()
    {
        for (var i = 0; i < 6; i++)
        {
            await fixture.App.GetAsync($"orders/{i}");
        }

        await fixture.App.GetAsync("nested");
        await fixture.App.GetAsync("boom");
        await fixture.App.GetAsync("slow");
        for (var i = 0; i < 4; i++)
        {
            await fixture.App.GetAsync($"hello/{i}");
            await fixture.App.GetAsync($"signup/{i}");
        }

        await fixture.App.GetAsync("signup/9?fail=true");

        // The docs' screenshots come from the sample (SampleDashboardTests); these, of the test app, stay with the build.
        var dir = Path.Combine(AppContext.BaseDirectory, "screenshots", "test-app");
        Directory.CreateDirectory(dir);
        await using var d = await DashboardPage.OpenAsync(fixture, fixture.App.Dashboard);
        var page = d.Page;
        await d.WaitLiveAsync();
        await Expect(d.TraceRows.Filter(new() { HasText = "/orders/" }).First).ToBeVisibleAsync();
        await Expect(page.Locator("#m-p50")).Not.ToHaveTextAsync("–");

        // Traces: the list with a trace open (the main view).
        await d.TraceRows.Filter(new() { HasText = "/orders/" }).First.ClickAsync();
        await Expect(d.SpanRows.Filter(new() { HasText = "SELECT orders" })).ToHaveCountAsync(1);
        await d.SpanRows.Filter(new() { HasText = "SELECT orders" }).ClickAsync();
        await page.ScreenshotAsync(new() { Path = Path.Combine(dir, "dashboard.png") });

        // Trace waterfall with an error and its exception inline.
        await page.FillAsync("#f-name", "boom");
        await Expect(d.TraceRows.Filter(new() { HasNotText = "/boom" })).ToHaveCountAsync(0);
        await d.TraceRows.First.ClickAsync();
        await Expect(page.Locator(".wf-scroll .wrow-event.is-error").First).ToBeVisibleAsync();
        await page.ClickAsync("#f-clear");
        await page.Locator(".wf-scroll .wrow.is-error").Last.ClickAsync();
        await page.ScreenshotAsync(new() { Path = Path.Combine(dir, "trace-waterfall.png") });

        // Trace list alone, errors first.
        await page.Keyboard.PressAsync("Escape");
        await Expect(page.Locator(".detail-pane .empty")).ToBeVisibleAsync();
        await page.ScreenshotAsync(new() { Path = Path.Combine(dir, "trace-list.png") });

        // Flow map with a node card.
        await page.Keyboard.PressAsync("2");
        await Expect(page.Locator("#view-map")).ToBeVisibleAsync();
        var queue = page.Locator("#map-host .node[data-id='queue:emails']");
        await Expect(queue).ToBeVisibleAsync();
        await Expect(page.Locator("#map-host .node[data-id='database:shop']")).ToBeVisibleAsync();
        await queue.ClickAsync();
        await Expect(page.Locator("#map-card .dead-letters")).ToBeVisibleAsync();
        await page.ScreenshotAsync(new() { Path = Path.Combine(dir, "flow-map.png") });

        // Replay of an orders trace, a few steps in.
        await page.Keyboard.PressAsync("1");
        await page.FillAsync("#f-name", "orders");
        await Expect(d.TraceRows.Filter(new() { HasNotText = "/orders/" })).ToHaveCountAsync(0);
        await d.TraceRows.First.ClickAsync();
        await Expect(d.SpanRows.First).ToBeVisibleAsync();
        await page.Keyboard.PressAsync("r");
        await Expect(page.Locator("#replay-counter")).ToHaveTextAsync(new Regex(@"^1 / "));
        for (var i = 0; i < 6; i++)
        {
            await page.Keyboard.PressAsync("ArrowRight");
        }

        await Expect(page.Locator("#replay-counter")).ToHaveTextAsync(new Regex(@"^7 / "));
        await page.ScreenshotAsync(new() { Path = Path.Combine(dir, "replay.png") });

        // History window replay: many traces interleaved.
        await page.Locator(".replay-window button").ClickAsync();
        await Expect(page.Locator(".replay-title")).ToContainTextAsync("Window");
        await Expect(page.Locator(".replay-log .log-trace").First).ToBeVisibleAsync();

        // Compare two orders traces (one slower payment call).
        await page.Keyboard.PressAsync("1");
        await d.TraceRows.First.ClickAsync();
        await page.Locator(".trace-header button", new() { HasText = "Compare" }).ClickAsync();
        await Expect(page.Locator("#view-compare .diff-row:not(.diff-head)").First).ToBeVisibleAsync();
        await Expect(page.Locator("#view-compare .compare-summary")).ToContainTextAsync("matched");
        await page.ScreenshotAsync(new() { Path = Path.Combine(dir, "compare.png") });

        // Light theme.
        await page.Keyboard.PressAsync("4");
        await page.ClickAsync("#theme");
        await page.ClickAsync("#theme");
        await Expect(page.Locator("html")).ToHaveAttributeAsync("data-theme", "light");
        await page.Keyboard.PressAsync("1");
        await d.TraceRows.First.ClickAsync();
        await Expect(d.SpanRows.First).ToBeVisibleAsync();
        await page.ScreenshotAsync(new() { Path = Path.Combine(dir, "light-theme.png") });

        d.AssertNoErrors();
    }
}
