using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace FlowScope.Embedded.BrowserTests;

/// <summary>
/// The dashboard on the bundled sample, as a new user meets it: someone chats in the messenger while its chat simulator,
/// started from the Controls view, adds load; in Chromium at 1600×1000. The docs' screenshots come from here.
/// </summary>
[Collection(BrowserSuite.Name)]
public sealed class SampleDashboardTests(BrowserFixture fixture)
{
    public const int Width = 1600;
    public const int Height = 1000;

    internal static string ScreenshotDir()
    {
        var dir = Environment.GetEnvironmentVariable("FLOWSCOPE_SCREENSHOT_DIR") is { Length: > 0 } configured
            ? configured
            : Path.Combine(AppContext.BaseDirectory, "screenshots");
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>A person signs up in the messenger and chats (HTTP requests, a WebSocket, static files, a 401, a bot command).</summary>
    internal static async Task<IPage> ChatAsync(BrowserFixture fixture, SampleApp sample, string name)
    {
        var context = await fixture.Browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1200, Height = 800 } });
        var page = await context.NewPageAsync();
        await page.GotoAsync(sample.Root.ToString());
        await page.Locator("#auth-name").FillAsync(name);
        await page.Locator("#auth-password").FillAsync($"password-of-{name}");
        await page.Locator("#sign-up").ClickAsync();
        await Expect(page.Locator("#connection")).ToHaveTextAsync("online");
        foreach (var text in new[] { "hello from " + name, "/weather Lisbon", "anyone here?" })
        {
            await page.Locator("#message-input").FillAsync(text);
            await page.Locator("#message-input").PressAsync("Enter");
        }

        return page;
    }

    /// <summary>Starts the sample's chat simulator from the dashboard's Controls view at <paramref name="rate"/> runs per second.</summary>
    internal static async Task StartChatSimulatorAsync(IPage page, int rate)
    {
        await page.Keyboard.PressAsync("5");
        var row = page.Locator("#sim-table tr[data-simulator='chat']");
        await Expect(row).ToBeVisibleAsync();
        await row.Locator(".sim-rate").FillAsync(rate.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await row.Locator(".sim-start").ClickAsync();
        await Expect(row).ToHaveClassAsync(new Regex("running"));
    }

    [Fact]
    public async Task On_the_sample_under_load_every_view_tells_the_truth_and_the_screenshots_are_saved()
    {
        await using var sample = await SampleApp.StartAsync();
        var chat = await ChatAsync(fixture, sample, "ada");
        var dir = ScreenshotDir();
        await using var d = await DashboardPage.OpenAsync(fixture, sample.Dashboard, Width, Height);
        var page = d.Page;
        await d.WaitLiveAsync();

        await StartChatSimulatorAsync(page, 40);

        // The messenger reloads: its WebSocket ends (a connection, not a request) and a new one opens.
        await chat.ReloadAsync();
        await Expect(chat.Locator("#connection")).ToHaveTextAsync("online");

        // The header: HTTP requests by default, and every kind of work that ran, selectable.
        await page.Keyboard.PressAsync("1");
        await Expect(page.Locator("#kinds button[data-kind='http']")).ToHaveAttributeAsync("aria-checked", "true");
        await Expect(page.Locator("#kinds button[data-kind='message']")).ToBeVisibleAsync();
        await Expect(page.Locator("#kinds button[data-kind='simulator']")).ToBeVisibleAsync();
        await Expect(page.Locator("#kinds button[data-kind='connection']")).ToBeVisibleAsync();

        // A list of every kind, with HTTP statuses; routine requests (the messenger's own scripts and styles) folded away.
        await Expect(d.TraceRows.Filter(new() { HasText = "simulate chat" }).First).ToBeVisibleAsync();
        await Expect(page.Locator("#routine-count")).ToBeVisibleAsync();
        await Expect(d.TraceRows.Filter(new() { HasText = "GET /app.js" })).ToHaveCountAsync(0);

        // An error trace opens at its first error.
        await page.SelectOptionAsync("#f-kind", "simulator");
        await page.CheckAsync("#f-errors");
        await OpenRowAsync(d, "simulate chat");
        await Expect(page.Locator(".wf-scroll .wrow.selected.is-error")).ToBeVisibleAsync();
        await page.Mouse.MoveAsync(Width - 5, Height - 5);
        await page.ScreenshotAsync(new() { Path = Path.Combine(dir, "trace-waterfall.png") });

        // The main view: every kind of work in the list, and a chat message's waterfall (socket, queue, delivery).
        await page.Keyboard.PressAsync("Escape");
        await page.ClickAsync("#f-clear");
        await chat.Locator("#message-input").FillAsync("is the dashboard telling the truth?");
        await chat.Locator("#message-input").PressAsync("Enter");
        await Expect(d.TraceRows.Filter(new() { HasText = "receive message" }).First).ToBeVisibleAsync();
        await OpenRowAsync(d, "receive message");
        await Expect(d.SpanRows.Filter(new() { HasText = "deliver message" }).First).ToBeVisibleAsync();
        await page.Mouse.MoveAsync(Width - 5, Height - 5);
        await page.ScreenshotAsync(new() { Path = Path.Combine(dir, "dashboard.png") });

        // The list alone, every kind of work.
        await page.Keyboard.PressAsync("Escape");
        await page.ClickAsync("#f-clear");
        await Expect(page.Locator("#list-new")).ToBeHiddenAsync(); // nobody on the list: the waiting traces joined it

        await page.Mouse.MoveAsync(Width - 5, Height - 5);
        await page.ScreenshotAsync(new() { Path = Path.Combine(dir, "trace-list.png") });

        // The flow map at Fit: the middleware chain is one pipeline node; every label stays at 11 px or more.
        await page.Keyboard.PressAsync("2");
        var pipeline = page.Locator("#map-host .node[data-id='pipeline:middleware']");
        await Expect(pipeline).ToBeVisibleAsync();
        await page.Locator("#map-host .map-controls button", new() { HasText = "Fit" }).ClickAsync();
        var smallest = await SmallestMapTextAsync(page);
        Assert.True(smallest >= 11, $"the smallest text of the flow map at Fit is {smallest:0.0} px");
        Console.WriteLine($"Flow map at Fit: smallest text {smallest:0.0} px, {await page.Locator("#map-host .node").CountAsync()} nodes");
        var nodes = await page.Locator("#map-host .node").CountAsync();

        // Full names on focus (and hover): a node whose name is cut shows it whole in its tooltip.
        var cut = page.Locator("#map-host .node", new() { Has = page.Locator(".node-name", new() { HasTextRegex = new Regex("…$") }) }).First;
        await cut.FocusAsync();
        await Expect(page.Locator("#map-host .map-tip")).ToBeVisibleAsync();
        await Expect(page.Locator("#map-host .map-tip strong")).ToHaveTextAsync((await cut.GetAttributeAsync("data-full-name"))!);
        await Expect(cut).ToHaveAttributeAsync("aria-describedby", new Regex("^map-tip-"));
        await pipeline.ClickAsync();
        await Expect(page.Locator("#map-card .chain-list li").First).ToBeVisibleAsync();
        await page.Mouse.MoveAsync(Width - 400, Height - 60);
        await page.ScreenshotAsync(new() { Path = Path.Combine(dir, "flow-map.png") });

        // Expanded on demand: every middleware, in call order.
        await page.Keyboard.PressAsync("x");
        await Expect(pipeline).ToHaveCountAsync(0);
        Assert.True(await page.Locator("#map-host .node[data-component='middleware']").CountAsync() >= 5);
        Assert.True(await page.Locator("#map-host .node").CountAsync() > nodes);
        await page.Keyboard.PressAsync("x");
        await Expect(pipeline).ToBeVisibleAsync();

        // Replay and compare of a request.
        await page.Keyboard.PressAsync("1");
        await page.SelectOptionAsync("#f-kind", "http");
        await OpenRowAsync(d, "api/rooms");
        await Expect(d.SpanRows.First).ToBeVisibleAsync();
        await page.Keyboard.PressAsync("r");
        await Expect(page.Locator("#replay-counter")).ToHaveTextAsync(new Regex(@"^1 / "));
        for (var i = 0; i < 5; i++)
        {
            await page.Keyboard.PressAsync("ArrowRight");
        }

        await Expect(page.Locator("#replay-counter")).ToHaveTextAsync(new Regex(@"^6 / "));
        await page.ScreenshotAsync(new() { Path = Path.Combine(dir, "replay.png") });

        await page.Keyboard.PressAsync("1");
        await page.Locator(".trace-header button", new() { HasText = "Compare" }).ClickAsync();
        await Expect(page.Locator("#view-compare .diff-row:not(.diff-head)").First).ToBeVisibleAsync();
        await page.Mouse.MoveAsync(Width - 5, Height - 5);
        await page.ScreenshotAsync(new() { Path = Path.Combine(dir, "compare.png") });

        // A delay injected into the messages queue's handler from the Controls view: the spans it touched say so.
        await page.Keyboard.PressAsync("5");
        await Expect(page.Locator("#sim-table tr[data-simulator='chat'] .c-runs")).Not.ToHaveTextAsync("0");
        await page.SelectOptionAsync("#fi-target", "queue:messages");
        await page.FillAsync("#fi-delay", "25");
        await page.FillAsync("#fi-delay-max", "60");
        await page.SelectOptionAsync("#fi-unit", "hits");
        await page.FillAsync("#fi-limit", "500");
        await page.ClickAsync("#fi-submit");
        var injection = page.Locator("#fi-table tbody tr").Filter(new() { HasText = "messages" });
        await Expect(injection.Locator("td.num").First).ToHaveTextAsync(new Regex("^[1-9]"));
        await page.Mouse.MoveAsync(Width - 5, Height - 5);
        await page.ScreenshotAsync(new() { Path = Path.Combine(dir, "controls.png") });

        await page.Keyboard.PressAsync("1");
        await page.ClickAsync("#f-clear");
        await page.FillAsync("#f-attr", "flowscope.fault.id");
        await Expect(page.Locator("#list-scroll")).ToHaveAttributeAsync("data-search", "answered");
        await OpenRowAsync(d, "simulate chat");
        var injected = d.SpanRows.Filter(new() { Has = page.Locator(".fault-badge") }).First;
        await Expect(injected).ToBeVisibleAsync();
        await injected.ClickAsync();
        await Expect(page.Locator(".span-detail .fault-callout")).ToBeVisibleAsync();
        await page.Mouse.MoveAsync(Width - 5, Height - 5);
        await page.ScreenshotAsync(new() { Path = Path.Combine(dir, "trace-injected.png") });
        await page.Keyboard.PressAsync("5");
        await page.ClickAsync("#fi-stop-all");
        await Expect(page.Locator("#fi-empty")).ToBeVisibleAsync();
        await page.Keyboard.PressAsync("1");
        await page.ClickAsync("#f-clear");

        // Light theme.
        await page.Keyboard.PressAsync("1");
        await page.ClickAsync("#theme");
        await page.ClickAsync("#theme");
        await Expect(page.Locator("html")).ToHaveAttributeAsync("data-theme", "light");
        await page.Mouse.MoveAsync(Width - 5, Height - 5);
        await page.ScreenshotAsync(new() { Path = Path.Combine(dir, "light-theme.png") });

        await chat.Context.CloseAsync();
        d.AssertNoErrorsButRefusedRequests();
    }

    /// <summary>
    /// Opens the first row showing <paramref name="text"/> as a person does: the pointer comes onto the list first
    /// (which then holds still), then clicks the row it sees.
    /// </summary>
    internal static async Task OpenRowAsync(DashboardPage d, string text)
    {
        var page = d.Page;
        var head = (await page.Locator(".list-pane .list-head").BoundingBoxAsync())!;
        await page.Mouse.MoveAsync(head.X + 10, head.Y + (head.Height / 2));
        var row = d.TraceRows.Filter(new() { HasText = text }).First;
        await row.ScrollIntoViewIfNeededAsync();
        var box = (await row.BoundingBoxAsync())!;
        var (x, y) = (box.X + (box.Width / 2), box.Y + (box.Height / 2));
        await page.Mouse.MoveAsync(x, y);
        var aimed = await page.EvaluateAsync<string?>("p => document.elementFromPoint(p.x, p.y)?.closest('.trow')?.dataset.id ?? null", new { x = (double)x, y = (double)y });
        Assert.NotNull(aimed);
        await page.Mouse.ClickAsync(x, y);
        await Expect(page).ToHaveURLAsync(new Regex($"trace={aimed}"));
    }

    /// <summary>The smallest rendered size, in CSS pixels, of any text on the flow map.</summary>
    internal static Task<double> SmallestMapTextAsync(IPage page) => page.EvaluateAsync<double>("""
        () => {
          let min = Infinity;
          for (const t of document.querySelectorAll('#map-host svg text')) {
            if (!t.textContent.trim()) continue;
            const size = parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a;
            min = Math.min(min, size);
          }
          return min;
        }
        """);
}
