using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace FlowScope.Embedded.BrowserTests;

[Collection(BrowserSuite.Name)]
public sealed class TraceViewTests(BrowserFixture fixture)
{
    [Fact]
    public async Task Opening_a_trace_shows_its_waterfall_with_nested_steps_logs_and_self_time()
    {
        await fixture.App.GetAsync("nested");
        await using var d = await DashboardPage.OpenAsync(fixture, new Uri(fixture.App.Dashboard, "?name=nested"));
        await d.TraceRows.First.ClickAsync();

        var spans = d.SpanRows;
        await Expect(spans.Filter(new() { HasText = "outer step" })).ToHaveCountAsync(1);
        await Expect(spans.Filter(new() { HasText = "inner step" })).ToHaveCountAsync(1);
        Assert.True(await spans.CountAsync() >= 4, "server, pipeline stages, endpoint and the two custom steps");

        // The inner step is nested under the outer one.
        var outerLevel = int.Parse(await spans.Filter(new() { HasText = "outer step" }).GetAttributeAsync("aria-level") ?? "0");
        var innerLevel = int.Parse(await spans.Filter(new() { HasText = "inner step" }).GetAttributeAsync("aria-level") ?? "0");
        Assert.Equal(outerLevel + 1, innerLevel);

        // The log entry is inline, the critical path is marked, self time is shown.
        await Expect(d.Page.Locator(".wf-scroll .wrow-event").Filter(new() { HasText = "Stock is running low" })).ToHaveCountAsync(1);
        Assert.True(await d.Page.Locator(".wf-scroll .wrow.critical").CountAsync() >= 2);
        await Expect(d.Page.Locator(".wf-scale")).ToContainTextAsync("Self");

        // Collapse hides the children; expand brings them back.
        await spans.Filter(new() { HasText = "outer step" }).Locator(".toggle").ClickAsync();
        await Expect(spans.Filter(new() { HasText = "inner step" })).ToHaveCountAsync(0);
        await spans.Filter(new() { HasText = "outer step" }).Locator(".toggle").ClickAsync();
        await Expect(spans.Filter(new() { HasText = "inner step" })).ToHaveCountAsync(1);

        // Span panel: attributes; search within the trace selects the match.
        await d.Page.FillAsync(".wf-search", "deep");
        await d.Page.PressAsync(".wf-search", "Enter");
        await Expect(d.Page.Locator(".span-detail h3")).ToHaveTextAsync("inner step");
        await Expect(d.Page.Locator(".span-detail .attrs td").Filter(new() { HasText = "deep" })).ToHaveCountAsync(1);
        d.AssertNoErrors();
    }

    [Fact]
    public async Task Xss_payloads_in_span_names_and_attributes_stay_inert_text()
    {
        await fixture.App.GetAsync("xss");
        await using var d = await DashboardPage.OpenAsync(fixture, new Uri(fixture.App.Dashboard, "?name=xss"));
        await d.TraceRows.First.ClickAsync();

        var row = d.SpanRows.Filter(new() { HasText = BrowserTestApp.XssPayload });
        await Expect(row).ToHaveCountAsync(1);
        await Expect(row.Locator(".span-name")).ToHaveTextAsync(BrowserTestApp.XssPayload);
        await row.ClickAsync();
        await Expect(d.Page.Locator(".span-detail h3")).ToHaveTextAsync(BrowserTestApp.XssPayload);
        await Expect(d.Page.Locator(".span-detail .attrs td").Filter(new() { HasText = BrowserTestApp.XssPayload })).ToHaveCountAsync(1);

        // The same text through the replay view and the flow map.
        await d.Page.Locator(".trace-header button", new() { HasText = "Replay" }).ClickAsync();
        await Expect(d.Page.Locator(".replay-log").GetByText(BrowserTestApp.XssPayload, new() { Exact = true })).ToHaveCountAsync(1);
        await d.Page.ClickAsync("#tab-map");
        await Expect(d.Page.Locator("#map-host .node").First).ToBeVisibleAsync();

        Assert.Equal("undefined", await d.Page.EvaluateAsync<string>("typeof window.__xss"));
        Assert.Equal(0, await d.Page.Locator("img").CountAsync());
        d.AssertNoErrors();
    }

    [Fact]
    public async Task Replay_stepping_moves_the_highlight_in_the_waterfall_and_the_map()
    {
        await fixture.App.GetAsync("orders/7");
        var traceId = await FindTraceIdAsync("orders");
        await using var d = await DashboardPage.OpenAsync(fixture, new Uri(fixture.App.Dashboard, $"?view=replay&rtrace={traceId}"));
        var page = d.Page;
        var counter = page.Locator("#replay-counter");
        await Expect(counter).ToHaveTextAsync(new Regex(@"^1 / \d+$"));
        var current = page.Locator(".replay-trace .wrow.replay-current");
        await Expect(current).ToHaveCountAsync(1);
        var first = await current.GetAttributeAsync("data-span-id");

        await page.Keyboard.PressAsync("ArrowRight");
        await Expect(counter).ToHaveTextAsync(new Regex(@"^2 / \d+$"));
        await Expect(current).Not.ToHaveAttributeAsync("data-span-id", first!);
        var second = await current.GetAttributeAsync("data-span-id");
        await Expect(page.Locator(".replay-log li.current")).ToHaveCountAsync(1);
        await Expect(page.Locator(".replay-map .node.hl").First).ToBeVisibleAsync();

        await page.ClickAsync("#replay-next");
        await Expect(counter).ToHaveTextAsync(new Regex(@"^3 / \d+$"));
        await Expect(current).Not.ToHaveAttributeAsync("data-span-id", second!);

        await page.ClickAsync("#replay-prev");
        await page.Keyboard.PressAsync("ArrowLeft");
        await Expect(counter).ToHaveTextAsync(new Regex(@"^1 / \d+$"));
        await Expect(current).ToHaveAttributeAsync("data-span-id", first!);

        // End jumps to the last step; the database node is then among the highlighted ones at some step.
        await page.Keyboard.PressAsync("End");
        var total = Regex.Match(await counter.TextContentAsync() ?? "", @"/ (\d+)").Groups[1].Value;
        await Expect(counter).ToHaveTextAsync($"{total} / {total}");
        d.AssertNoErrors();
    }

    [Fact]
    public async Task The_speed_control_changes_the_pace_of_playback()
    {
        await fixture.App.GetAsync("orders/8");
        var traceId = await FindTraceIdAsync("orders");
        await using var d = await DashboardPage.OpenAsync(fixture, new Uri(fixture.App.Dashboard, $"?view=replay&rtrace={traceId}"));
        var page = d.Page;
        await Expect(page.Locator("#replay-counter")).ToHaveTextAsync(new Regex(@"^1 / ([6-9]|\d\d+)$"));

        // Records the time of every step change.
        await page.EvaluateAsync("""
            () => {
              const el = document.getElementById('view-replay');
              window.__steps = [];
              let last = el.dataset.step;
              new MutationObserver(() => {
                if (el.dataset.step !== last) { last = el.dataset.step; window.__steps.push(performance.now()); }
              }).observe(el, { attributes: true, attributeFilter: ['data-step'] });
            }
            """);

        async Task<double> MeasureAsync(string speed, int changes)
        {
            await page.Keyboard.PressAsync("Home");
            await page.ClickAsync($".segmented [data-speed='{speed}']");
            await Expect(page.Locator($".segmented [data-speed='{speed}']")).ToHaveAttributeAsync("aria-checked", "true");
            await page.EvaluateAsync("() => { window.__steps = []; }");
            await page.ClickAsync("#replay-play");
            await page.WaitForFunctionAsync($"() => window.__steps.length >= {changes}", null, new() { Timeout = 15_000 });
            await page.ClickAsync("#replay-play"); // pause
            var times = await page.EvaluateAsync<double[]>("() => window.__steps");
            return (times[changes - 1] - times[0]) / (changes - 1);
        }

        var atOne = await MeasureAsync("1", 3);
        var atFive = await MeasureAsync("5", 5);
        Assert.InRange(atOne, 800, 1400); // one step per second at 1x
        Assert.InRange(atOne / atFive, 3.5, 7.0); // 5x is five times faster
        await Expect(page).ToHaveURLAsync(new Regex("speed=5"));
        d.AssertNoErrors();
    }

    [Fact]
    public async Task Export_then_import_round_trips_a_trace_as_otlp_json()
    {
        await fixture.App.GetAsync("orders/9");
        var traceId = await FindTraceIdAsync("orders");
        using var apiTrace = JsonDocument.Parse(await fixture.App.GetAsync($"_flowscope/api/traces/{traceId}"));
        var apiNames = apiTrace.RootElement.GetProperty("spans").EnumerateArray().Select(s => s.GetProperty("name").GetString()!).OrderBy(n => n, StringComparer.Ordinal).ToList();

        await using var d = await DashboardPage.OpenAsync(fixture, new Uri(fixture.App.Dashboard, $"?trace={traceId}"));
        var page = d.Page;
        await Expect(d.SpanRows.First).ToBeVisibleAsync();
        var download = await page.RunAndWaitForDownloadAsync(() => page.Locator(".trace-header button", new() { HasText = "Export" }).ClickAsync());
        Assert.Equal($"flowscope-trace-{traceId}.json", download.SuggestedFilename);
        var file = Path.Combine(Path.GetTempPath(), $"flowscope-{Guid.NewGuid():N}.json");
        try
        {
            await download.SaveAsAsync(file);
            using (var otlp = JsonDocument.Parse(await File.ReadAllTextAsync(file)))
            {
                var exported = otlp.RootElement.GetProperty("resourceSpans").EnumerateArray()
                    .SelectMany(r => r.GetProperty("scopeSpans").EnumerateArray())
                    .SelectMany(s => s.GetProperty("spans").EnumerateArray())
                    .ToList();
                Assert.Equal(apiNames, exported.Select(s => s.GetProperty("name").GetString()!).OrderBy(n => n, StringComparer.Ordinal));
                Assert.All(exported, s => Assert.Equal(traceId, s.GetProperty("traceId").GetString()));
                Assert.All(exported, s => Assert.True(ulong.Parse(s.GetProperty("endTimeUnixNano").GetString()!, System.Globalization.CultureInfo.InvariantCulture)
                    >= ulong.Parse(s.GetProperty("startTimeUnixNano").GetString()!, System.Globalization.CultureInfo.InvariantCulture)));
            }

            await page.Locator("#import-file").SetInputFilesAsync(file);
            await Expect(page.Locator("#source-banner")).ToBeVisibleAsync();
            await Expect(page.Locator("#conn")).ToHaveAttributeAsync("data-state", "imported");
            await Expect(d.TraceRows).ToHaveCountAsync(1);
            await d.TraceRows.First.ClickAsync();
            await Expect(d.SpanRows).ToHaveCountAsync(apiNames.Count);
            var names = (await d.SpanRows.Locator(".span-name").AllTextContentsAsync()).OrderBy(n => n, StringComparer.Ordinal);
            Assert.Equal(apiNames, names);

            // The imported trace replays too.
            await page.Locator(".trace-header button", new() { HasText = "Replay" }).ClickAsync();
            await Expect(page.Locator("#replay-counter")).ToHaveTextAsync($"1 / {apiNames.Count}");

            // A bad file and an oversized file get a clear message and change nothing.
            await page.Locator("#import-file").SetInputFilesAsync(new FilePayload { Name = "bad.json", MimeType = "application/json", Buffer = "{\"resourceSpans\": 3}"u8.ToArray() });
            await Expect(page.Locator("#toast")).ToContainTextAsync("Import failed — Not an OTLP JSON trace file");
            await Expect(page.Locator("#source-label")).ToContainTextAsync("1 traces");
            var big = Path.Combine(Path.GetTempPath(), $"flowscope-big-{Guid.NewGuid():N}.json");
            try
            {
                await using (var stream = File.Create(big))
                {
                    stream.SetLength(21 * 1024 * 1024);
                }

                await page.Locator("#import-file").SetInputFilesAsync(big);
                await Expect(page.Locator("#toast")).ToContainTextAsync("the limit is 20 MB");
                await Expect(page.Locator("#source-label")).ToContainTextAsync("1 traces");
            }
            finally
            {
                File.Delete(big);
            }

            // Back to live data.
            await page.ClickAsync("#back-live");
            await Expect(page.Locator("#source-banner")).ToBeHiddenAsync();
            await Expect(page.Locator("#conn")).Not.ToHaveAttributeAsync("data-state", "imported");
            await page.ClickAsync("#tab-traces");
            await Expect(d.TraceRows.Filter(new() { HasText = "/orders/" }).First).ToBeVisibleAsync();

            // Export filtered: every trace the list shows, in one file.
            await page.FillAsync("#f-name", "orders");
            await Expect(d.TraceRows.Filter(new() { HasNotText = "/orders/" })).ToHaveCountAsync(0);
            var shown = (await d.TraceRows.EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.id)")).ToHashSet();
            var setDownload = await page.RunAndWaitForDownloadAsync(() => page.ClickAsync("#export-set"));
            await setDownload.SaveAsAsync(file);
            using var set = JsonDocument.Parse(await File.ReadAllTextAsync(file));
            var traceIds = set.RootElement.GetProperty("resourceSpans").EnumerateArray()
                .SelectMany(r => r.GetProperty("scopeSpans").EnumerateArray())
                .SelectMany(s => s.GetProperty("spans").EnumerateArray())
                .Select(s => s.GetProperty("traceId").GetString()!)
                .ToHashSet();
            Assert.Superset(shown, traceIds);
            Assert.Contains(traceId, traceIds);
        }
        finally
        {
            File.Delete(file);
        }

        d.AssertNoErrors();
    }

    [Fact]
    public async Task Ten_thousand_traces_and_a_two_thousand_span_trace_stay_virtualised()
    {
        var file = Path.Combine(Path.GetTempPath(), $"flowscope-many-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(file, OtlpFiles.Many(traces: 10_000, bigTraceSpans: 2_000));
        try
        {
            await using var d = await DashboardPage.OpenAsync(fixture, fixture.App.Dashboard);
            var page = d.Page;
            await page.Locator("#import-file").SetInputFilesAsync(file);
            await Expect(page.Locator("#count")).ToHaveTextAsync("10,001 traces");
            Assert.InRange(await d.TraceRows.CountAsync(), 10, 120);

            // Scrolling to the end renders the oldest trace, still with few rows in the DOM.
            await page.Locator("#list-scroll").EvaluateAsync("el => { el.scrollTop = el.scrollHeight; }");
            await Expect(d.TraceRows.Filter(new() { HasText = "op 0" }).First).ToBeVisibleAsync();
            Assert.InRange(await d.TraceRows.CountAsync(), 10, 120);

            await page.FillAsync("#f-name", "big trace");
            await Expect(d.TraceRows).ToHaveCountAsync(1);
            var opening = System.Diagnostics.Stopwatch.StartNew();
            await d.TraceRows.First.ClickAsync();
            await Expect(page.Locator(".trace-header .meta")).ToContainTextAsync("2,000");
            await Expect(d.SpanRows.First).ToBeVisibleAsync();
            Assert.True(opening.Elapsed < TimeSpan.FromSeconds(3), $"opening the 2 000-span trace took {opening.Elapsed}");
            Assert.InRange(await d.SpanRows.CountAsync(), 10, 200);

            // Search within the trace finds a span far down and scrolls to it.
            await page.FillAsync(".wf-search", "step 1999");
            await page.PressAsync(".wf-search", "Enter");
            await Expect(d.SpanRows.Filter(new() { HasText = "step 1999" })).ToBeVisibleAsync();
            await Expect(page.Locator(".span-detail h3")).ToHaveTextAsync("step 1999");
        }
        finally
        {
            File.Delete(file);
        }
    }

    private async Task<string> FindTraceIdAsync(string name)
    {
        await using var d = await DashboardPage.OpenAsync(fixture, new Uri(fixture.App.Dashboard, $"?name={name}"));
        var row = d.TraceRows.First;
        await Expect(row).ToBeVisibleAsync();
        return (await row.GetAttributeAsync("data-id"))!;
    }
}
