using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace FlowScope.Embedded.BrowserTests;

/// <summary>
/// The live list never moves under the user (at 100 traces a second) and never points at an evicted trace without
/// saying so.
/// </summary>
[Collection(BrowserSuite.Name)]
public sealed class LiveListHoldTests(BrowserFixture fixture)
{
    /// <summary>Sends <paramref name="perSecond"/> requests a second (in bursts every 100 ms) until disposed.</summary>
    private sealed class Load : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _run;
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private long _sent;

        public Load(Func<int, Task> send, int perSecond)
        {
            _run = Task.Run(async () =>
            {
                using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
                var n = 0;
                while (await Tick(timer, _stop.Token))
                {
                    // Catch up after a late tick, so the rate holds on a busy machine.
                    var due = (int)(_clock.Elapsed.TotalSeconds * perSecond) - n;
                    var burst = new Task[Math.Clamp(due, 0, perSecond)];
                    for (var i = 0; i < burst.Length; i++)
                    {
                        burst[i] = send(n++);
                    }

                    await Task.WhenAll(burst);
                    Interlocked.Add(ref _sent, burst.Length);
                }
            });
        }

        private static async Task<bool> Tick(PeriodicTimer timer, CancellationToken stop)
        {
            try
            {
                return await timer.WaitForNextTickAsync(stop);
            }
            catch (OperationCanceledException)
            {
                return false;
            }
        }

        public double PerSecond => Interlocked.Read(ref _sent) / _clock.Elapsed.TotalSeconds;

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await _run;
            _stop.Dispose();
        }
    }

    private static Task<string?> IdUnderAsync(IPage page, float x, float y) =>
        page.EvaluateAsync<string?>("p => document.elementFromPoint(p.x, p.y)?.closest('.trow')?.dataset.id ?? null", new { x = (double)x, y = (double)y });

    [Fact]
    public async Task At_100_traces_a_second_a_click_or_a_key_opens_the_row_aimed_at_and_new_rows_wait_behind_N_new()
    {
        var app = fixture.App;
        await using var d = await DashboardPage.OpenAsync(fixture, app.Dashboard, 1600, 1000);
        var page = d.Page;
        await d.WaitLiveAsync();
        await using var load = new Load(i => app.GetAsync($"hello/{i}"), perSecond: 100);
        await Expect(d.TraceRows.Nth(25)).ToBeVisibleAsync();

        // Untouched, the list follows the traffic: its first row changes.
        var first = await d.TraceRows.First.GetAttributeAsync("data-id");
        await page.WaitForFunctionAsync("id => document.querySelector('#list-scroll .trow[data-index=\"0\"]')?.dataset.id !== id", first);

        var scroller = await page.Locator("#list-scroll").BoundingBoxAsync();
        for (var round = 0; round < 8; round++)
        {
            // Aim at a row: the pointer rests on it while traces keep arriving.
            var x = scroller!.X + 300;
            var y = scroller.Y + (ListRowHeight * (2 + (round * 3))) + (ListRowHeight / 2);
            await page.Mouse.MoveAsync(x, y);
            var aimed = await IdUnderAsync(page, x, y);
            Assert.NotNull(aimed);
            await Expect(page.Locator("#list-new")).ToBeVisibleAsync();
            await Expect(page.Locator("#list-new")).ToHaveTextAsync(new Regex(@"^↑ [\d,]+ new traces?$"));
            Assert.Equal(aimed, await IdUnderAsync(page, x, y));

            await page.Mouse.ClickAsync(x, y);
            await Expect(page).ToHaveURLAsync(new Regex($"trace={aimed}"));
            await Expect(page.Locator(".trace-header .meta code").First).ToHaveTextAsync(aimed!);

            // Closing the trace and leaving the list lets it move again.
            await page.Keyboard.PressAsync("Escape");
            await page.Locator("#list-new").ClickAsync();
            await Expect(page.Locator("#list-new")).ToBeHiddenAsync();
            await page.Mouse.MoveAsync(5, 5);
            await page.Locator("#f-name").FocusAsync();
            await page.Locator("#f-name").BlurAsync();
        }

        // A search asked from the server is asked again as traces arrive — but not while the pointer is on the list,
        // whose rows its answer would move.
        await page.FillAsync("#f-q", "hello");
        await Expect(page.Locator("#list-scroll")).ToHaveAttributeAsync("data-search", "answered");
        await page.Locator("#f-q").BlurAsync();
        await page.WaitForFunctionAsync("() => document.getElementById('list-scroll').dataset.search === 'asking'");
        await Expect(page.Locator("#list-scroll")).ToHaveAttributeAsync("data-search", "answered");
        var (sx, sy) = (scroller!.X + 300, scroller.Y + (ListRowHeight * 4) + (ListRowHeight / 2));
        await page.Mouse.MoveAsync(sx, sy);
        var searched = await IdUnderAsync(page, sx, sy);
        await Expect(page.Locator("#list-new")).ToBeVisibleAsync();
        await page.WaitForFunctionAsync("() => Number(/\\d+/.exec(document.getElementById('list-new').textContent)[0]) >= 150");
        Assert.Equal(searched, await IdUnderAsync(page, sx, sy));
        await page.Mouse.ClickAsync(sx, sy);
        await Expect(page).ToHaveURLAsync(new Regex($"trace={searched}"));
        await page.Keyboard.PressAsync("Escape");
        await page.ClickAsync("#f-clear");
        await page.Mouse.MoveAsync(5, 5);

        // The keyboard: the cursor's row and the one below it stay put while traces arrive; Enter opens the one aimed at.
        await page.Locator("#list-scroll").FocusAsync();
        await page.Keyboard.PressAsync("Home");
        for (var i = 0; i < 3; i++)
        {
            await page.Keyboard.PressAsync("ArrowDown");
        }

        await Expect(page.Locator("#list-scroll .trow.cursor")).ToHaveAttributeAsync("data-index", "3");
        var below = await page.Locator("#list-scroll .trow[data-index='4']").GetAttributeAsync("data-id");
        await Expect(page.Locator("#list-new")).ToBeVisibleAsync();
        await page.WaitForFunctionAsync("() => Number(/\\d+/.exec(document.getElementById('list-new').textContent)[0]) >= 20");
        await page.Keyboard.PressAsync("ArrowDown");
        await page.Keyboard.PressAsync("Enter");
        await Expect(page).ToHaveURLAsync(new Regex($"trace={below}"));

        // Scrolled away from the top, with the pointer and the focus elsewhere, the list holds too.
        await page.Keyboard.PressAsync("Escape");
        await page.Locator("#list-new").ClickAsync();
        await page.Locator("#list-scroll").EvaluateAsync("el => { el.scrollTop = 26 * 5; }");
        await page.Mouse.MoveAsync(5, 5);
        await page.Locator("#f-name").FocusAsync();
        await page.Locator("#f-name").BlurAsync();
        var fifth = await page.Locator("#list-scroll .trow[data-index='5']").GetAttributeAsync("data-id");
        await Expect(page.Locator("#list-new")).ToBeVisibleAsync();
        await page.WaitForFunctionAsync("() => Number(/\\d+/.exec(document.getElementById('list-new').textContent)[0]) >= 20");
        await Expect(page.Locator("#list-scroll .trow[data-index='5']")).ToHaveAttributeAsync("data-id", fifth!);

        // "N new" brings them in, newest first.
        var newest = await d.TraceRows.First.GetAttributeAsync("data-id");
        await page.Locator("#list-new").ClickAsync();
        await Expect(page.Locator("#list-scroll .trow[data-index='0']")).Not.ToHaveAttributeAsync("data-id", newest!);
        Assert.True(load.PerSecond >= 70, $"the load ran at {load.PerSecond:0} requests/s");
        d.AssertNoErrors();
    }

    private const float ListRowHeight = 26;

    [Fact]
    public async Task The_list_keeps_as_many_traces_as_the_store_and_marks_the_rows_of_evicted_traces()
    {
        await using var app = await BrowserTestApp.StartAsync(configure: o => o.MaxTraces = 40);
        await using var d = await DashboardPage.OpenAsync(fixture, app.Dashboard, 1600, 1000);
        var page = d.Page;
        await d.WaitLiveAsync();

        // A trace is open (the list is held), then traffic pushes it and the rows around it out of the store.
        for (var i = 0; i < 5; i++)
        {
            await app.GetAsync($"orders/{i}");
        }

        await app.GetAsync("nested");
        await d.TraceRows.Filter(new() { HasText = "/nested" }).First.ClickAsync();
        await Expect(d.SpanRows.First).ToBeVisibleAsync();
        var opened = await d.TraceRows.Filter(new() { HasText = "/nested" }).First.GetAttributeAsync("data-id");
        await using (var load = new Load(i => app.GetAsync($"hello/{i}"), perSecond: 60))
        {
            await Expect(page.Locator("#stat-evicted")).Not.ToHaveTextAsync("0");
            await Expect(page.Locator($"#list-scroll .trow[data-id='{opened}'] .flag-evicted")).ToBeVisibleAsync();
        }

        // The open trace says it is gone from the store; another marked row opens with a clear message.
        await Expect(page.Locator(".trace-header .flag-evicted")).ToBeVisibleAsync();
        await page.Locator("#list-scroll").EvaluateAsync("el => { el.scrollTop = el.scrollHeight; }");
        await page.Locator($"#list-scroll .trow.is-evicted:not([data-id='{opened}'])").Last.ClickAsync();
        await Expect(page.Locator(".detail-pane .error-box")).ToContainTextAsync("This trace was evicted");

        // Released, the list holds no more than the store; every row it shows unmarked is held by the store.
        await page.Keyboard.PressAsync("Escape");
        await page.Locator("#list-new").ClickAsync();
        await page.Mouse.MoveAsync(5, 5);
        await page.Locator("#f-name").FocusAsync();
        await page.Locator("#f-name").BlurAsync();
        await page.WaitForFunctionAsync("() => !document.querySelector('#list-scroll .trow.is-evicted')");
        var count = int.Parse(Regex.Match(await page.Locator("#count").TextContentAsync() ?? "", @"[\d,]+").Value.Replace(",", "", StringComparison.Ordinal), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(count, 1, 40);
        using var stored = JsonDocument.Parse(await app.GetAsync("_flowscope/api/traces?limit=1000"));
        var ids = stored.RootElement.GetProperty("traces").EnumerateArray().Select(t => t.GetProperty("traceId").GetString()).ToHashSet();
        var shown = await d.TraceRows.EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.id)");
        Assert.NotEmpty(shown);
        Assert.All(shown, id => Assert.Contains(id, ids));

        d.AssertNoErrorsButRefusedRequests();
    }
}
