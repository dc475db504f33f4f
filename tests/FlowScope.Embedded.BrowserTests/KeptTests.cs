using System.Text.Json;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace FlowScope.Embedded.BrowserTests;

/// <summary>When the store is full, the list says why each trace it still holds was kept, filters by it, and the map says what was seen and kept per route.</summary>
[Collection(BrowserSuite.Name)]
public sealed class KeptTests(BrowserFixture fixture)
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(50);

    [Fact]
    public async Task A_full_store_shows_why_it_kept_each_trace_and_what_it_saw_per_route()
    {
        // The smallest store (8 MB): a thousand 12 KB traces overflow it.
        await using var app = await BrowserTestApp.StartAsync(configure: o => o.MaxStoreMegabytes = 8);
        for (var i = 0; i < 3; i++)
        {
            await app.Client.GetAsync("/boom");
        }

        await Parallel.ForAsync(0, 1_000, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (i, ct) => (await app.Client.GetAsync($"/bulk/{i}", ct)).Dispose());

        int errorsKept = 0, samplesKept = 0;
        await WaitUntilAsync(async () =>
        {
            errorsKept = await CountAsync(app, "kept=error");
            samplesKept = await CountAsync(app, "kept=sampled");
            return errorsKept == 3 && samplesKept > 0;
        }, "the store recycled its oldest traces and kept the errors and route samples");

        await using var d = await DashboardPage.OpenAsync(fixture, app.Dashboard, 1600, 1000);
        var page = d.Page;
        await d.WaitLiveAsync();
        await page.Locator("#f-kept").SelectOptionAsync("error");
        await Expect(d.TraceRows).ToHaveCountAsync(errorsKept);
        foreach (var row in await d.TraceRows.AllAsync())
        {
            await Expect(row).ToContainTextAsync("GET /boom");
        }

        await page.Locator("#f-kept").SelectOptionAsync("sampled");
        await Expect(d.TraceRows).ToHaveCountAsync(samplesKept);
        await Expect(d.TraceRows.First.Locator(".flag-kept")).ToHaveTextAsync("sampled");
        Assert.Contains("kept=sampled", page.Url, StringComparison.Ordinal);

        using var routes = JsonDocument.Parse(await app.Client.GetStringAsync("/_flowscope/api/routes"));
        var bulk = routes.RootElement.GetProperty("routes").EnumerateArray().Single(r => r.GetProperty("route").GetString()!.Contains("/bulk/", StringComparison.Ordinal));
        var seen = bulk.GetProperty("seen").GetInt64();
        var kept = bulk.GetProperty("kept").GetInt32();
        Assert.True(seen >= 1_000 && kept < seen, $"bulk route: seen {seen}, kept {kept}");

        await page.Locator("[data-view=map]").First.ClickAsync();
        var table = page.Locator(".kept-table");
        var bulkRow = table.Locator("tbody tr", new() { HasText = "/bulk/" });
        await Expect(bulkRow).ToBeVisibleAsync();
        var cells = await bulkRow.Locator("td").AllInnerTextsAsync();
        Assert.Equal(seen, long.Parse(new string([.. cells[1].Where(char.IsAsciiDigit)]), System.Globalization.CultureInfo.InvariantCulture));
        d.AssertNoErrors();
    }

    private static async Task<int> CountAsync(BrowserTestApp app, string query)
    {
        using var json = JsonDocument.Parse(await app.Client.GetStringAsync($"/_flowscope/api/traces?limit=1000&{query}"));
        return json.RootElement.GetProperty("traces").GetArrayLength();
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Not within 30 s: {what}");
            await Task.Delay(PollInterval);
        }
    }
}
