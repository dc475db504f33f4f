using Deque.AxeCore.Commons;
using Deque.AxeCore.Playwright;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace FlowScope.Embedded.BrowserTests;

/// <summary>
/// axe-core finds no serious or critical violation in any view, in either theme; every control shows its focus.
/// </summary>
[Collection(BrowserSuite.Name)]
public sealed class AccessibilityTests(BrowserFixture fixture)
{
    private static readonly AxeRunOptions Options = new()
    {
        // Also the accessible name that must start with the visible label (not run by default).
        Rules = new Dictionary<string, RuleOptions> { ["label-content-name-mismatch"] = new() { Enabled = true } },
    };

    private static async Task<IReadOnlyList<string>> ViolationsAsync(IPage page, string view)
    {
        var result = await page.RunAxe(Options);
        return result.Violations
            .Where(v => v.Impact is "serious" or "critical")
            .Select(v => $"{view}: {v.Id} ({v.Impact}) {v.Help} — {string.Join(" | ", v.Nodes.Take(4).Select(n => n.Html))}")
            .ToList();
    }

    [Theory]
    [InlineData("dark")]
    [InlineData("light")]
    public async Task Every_view_has_no_serious_or_critical_axe_violation(string theme)
    {
        await using var app = await ApiTestApp.StartAsync();
        Assert.Equal(200, await app.GetAsync("articles"));
        Assert.Equal(200, await app.GetAsync("fail-deep"));
        Assert.Equal(401, await app.GetAsync("me"));
        Assert.Equal(200, await app.GetAsync("app.js"));
        Assert.Equal(200, await app.GetAsync("wait/5"));
        Assert.Equal(200, await app.GetAsync("wait/9"));
        await using var d = await DashboardPage.OpenAsync(fixture, app.Dashboard, 1600, 1000, page => page.EmulateMediaAsync(new() { ColorScheme = theme == "light" ? ColorScheme.Light : ColorScheme.Dark }));
        var page = d.Page;
        var violations = new List<string>();

        // Traces: the list with every kind of row, a trace open at its error, the span panel, the group of repeated queries.
        await Expect(d.TraceRows.Filter(new() { HasText = "/articles" })).ToHaveCountAsync(1);
        await page.CheckAsync("#f-routine");
        violations.AddRange(await ViolationsAsync(page, "trace list"));
        await d.TraceRows.Filter(new() { HasText = "/fail-deep" }).ClickAsync();
        await Expect(page.Locator(".span-detail")).ToBeVisibleAsync();
        violations.AddRange(await ViolationsAsync(page, "waterfall with a span"));
        await page.Keyboard.PressAsync("f");
        await Expect(page.Locator(".flame-bar").First).ToBeVisibleAsync();
        violations.AddRange(await ViolationsAsync(page, "flame graph"));
        await page.Keyboard.PressAsync("f");
        await d.TraceRows.Filter(new() { HasText = "/articles" }).ClickAsync();
        await Expect(page.Locator(".wrow-group")).ToBeVisibleAsync();
        violations.AddRange(await ViolationsAsync(page, "waterfall with N+1"));

        // Flow map with a node's card, then the summary.
        await page.Keyboard.PressAsync("2");
        await Expect(page.Locator("#map-host .node").First).ToBeVisibleAsync();
        violations.AddRange(await ViolationsAsync(page, "flow map"));
        await page.Locator("#map-host .node").First.ClickAsync();
        violations.AddRange(await ViolationsAsync(page, "flow map card"));

        // Replay, Compare, Controls.
        await page.Keyboard.PressAsync("1");
        await page.Keyboard.PressAsync("r");
        await Expect(page.Locator("#replay-counter")).Not.ToHaveTextAsync("0 / 0");
        violations.AddRange(await ViolationsAsync(page, "replay"));
        await page.Keyboard.PressAsync("1");
        await page.FillAsync("#f-name", "wait");
        await d.TraceRows.First.ClickAsync();
        await page.Locator(".trace-header button", new() { HasText = "Compare" }).ClickAsync();
        await Expect(page.Locator("#view-compare .diff-row:not(.diff-head)").First).ToBeVisibleAsync();
        violations.AddRange(await ViolationsAsync(page, "compare"));
        await page.Keyboard.PressAsync("5");
        await Expect(page.Locator("#controls-access")).ToBeVisibleAsync();
        violations.AddRange(await ViolationsAsync(page, "controls"));

        Assert.True(violations.Count == 0, string.Join("\n", violations));
        d.AssertNoErrors();
    }

    [Fact]
    public async Task Every_control_reached_by_Tab_shows_a_visible_focus()
    {
        await using var app = await ApiTestApp.StartAsync();
        Assert.Equal(200, await app.GetAsync("fail-deep"));
        await using var d = await DashboardPage.OpenAsync(fixture, app.Dashboard, 1600, 1000);
        var page = d.Page;
        await d.TraceRows.First.ClickAsync();
        await Expect(page.Locator(".span-detail")).ToBeVisibleAsync();
        await page.Locator("body").FocusAsync();

        // Tab through the page: every stop draws an outline, a ring (box shadow) or a changed border.
        var unseen = new List<string>();
        for (var i = 0; i < 60; i++)
        {
            await page.Keyboard.PressAsync("Tab");
            var focus = await page.EvaluateAsync<System.Text.Json.JsonElement>("""
                () => {
                  const el = document.activeElement;
                  if (!el || el === document.body) return { name: 'body', visible: true };
                  const target = el.matches('input[type=file]') ? el.closest('label') : el;
                  const s = getComputedStyle(target);
                  const ring = (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 1) || s.boxShadow !== 'none';
                  return { name: el.id || el.getAttribute('aria-label') || el.textContent.trim().slice(0, 30) || el.tagName, visible: ring };
                }
                """);
            if (!focus.GetProperty("visible").GetBoolean())
            {
                unseen.Add(focus.GetProperty("name").GetString()!);
            }
        }

        Assert.True(unseen.Count == 0, "No visible focus on: " + string.Join(", ", unseen.Distinct()));
    }
}
