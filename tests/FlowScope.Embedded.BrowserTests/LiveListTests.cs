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
        var id = Random.Shared.Next(100_000, 999_999);
        await fixture.App.GetAsync($"hello/{id}");

        // The list shows the route template; the new trace's row appears without a reload.
        var row = d.TraceRows.Filter(new LocatorFilterOptions { HasText = "/hello/" }).First;
        await Expect(row).ToBeVisibleAsync();
        await Expect(d.Page.Locator("#count")).Not.ToHaveTextAsync("0 traces");
        d.AssertNoErrors();
    }
}
