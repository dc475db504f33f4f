using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace FlowScope.Embedded.BrowserTests;

/// <summary>
/// An imported file is checked like captured data (ids, caps), never looks injected or live, and while it is viewed
/// nothing of the live app shows.
/// </summary>
[Collection(BrowserSuite.Name)]
public sealed class ImportTests(BrowserFixture fixture)
{
    private const string TraceId = "4bf92f3577b34da6a3ce929d0e0e4736";

    private static object Attribute(string key, string value) => new { key, value = new { stringValue = value } };

    /// <summary>A one-request OTLP file whose span claims an injected fault, with an overlong name and many attributes.</summary>
    private static byte[] File(object[]? links = null)
    {
        var attributes = new List<object>
        {
            Attribute("flowscope.component", "server"),
            Attribute("flowscope.fault.id", "f-1"),
            Attribute("flowscope.fault.delay_ms", "250"),
            Attribute("flowscope.fault.failure", "true"),
            Attribute("http.request.method", "GET"),
            Attribute("http.response.status_code", "200"),
        };
        for (var i = 0; i < 100; i++)
        {
            attributes.Add(Attribute($"extra.{i:000}", new string('v', 2_000)));
        }

        var span = new Dictionary<string, object>
        {
            ["traceId"] = TraceId,
            ["spanId"] = "00f067aa0ba902b7",
            ["name"] = "GET /imported " + new string('n', 3_000),
            ["kind"] = 2,
            ["startTimeUnixNano"] = "1767268800000000000",
            ["endTimeUnixNano"] = "1767268800005000000",
            ["attributes"] = attributes,
            ["links"] = links ?? [],
            ["status"] = new { code = 2, message = "failed on purpose" },
        };
        var doc = new { resourceSpans = new[] { new { resource = new { attributes = Array.Empty<object>() }, scopeSpans = new[] { new { scope = new { name = "other-tool" }, spans = new[] { span } } } } } };
        return Encoding.UTF8.GetBytes(JsonSerializer.Serialize(doc));
    }

    [Fact]
    public async Task Link_ids_are_validated_and_a_bad_file_changes_nothing()
    {
        await using var d = await DashboardPage.OpenAsync(fixture, fixture.App.Dashboard);
        var page = d.Page;
        await d.WaitLiveAsync();
        await page.Locator("#import-file").SetInputFilesAsync(new FilePayload
        {
            Name = "links.json",
            MimeType = "application/json",
            Buffer = File([new { traceId = "javascript:alert(6)", spanId = "00f067aa0ba902b7" }]),
        });
        await Expect(page.Locator("#toast")).ToContainTextAsync("link 0: \"traceId\" must be 32 and \"spanId\" 16 hex digits");
        await Expect(page.Locator("#source-banner")).ToBeHiddenAsync();
        await Expect(page.Locator("#conn")).ToHaveAttributeAsync("data-state", "live");
        d.AssertNoErrors();
    }

    [Fact]
    public async Task An_imported_span_is_capped_never_looks_injected_and_nothing_of_the_live_app_shows_meanwhile()
    {
        // A live app that evicts (a notice), has a queue and a worker (the map's summary) and serves requests.
        await using var app = await BrowserTestApp.StartAsync(configure: o => o.MaxTraces = 3);
        for (var i = 0; i < 6; i++)
        {
            await app.GetAsync($"signup/{i}");
        }

        await using var d = await DashboardPage.OpenAsync(fixture, new Uri(app.Dashboard, "?view=map"), 1600, 1000);
        var page = d.Page;
        await Expect(page.Locator("#notice")).ToContainTextAsync("evicted");
        await Expect(page.Locator("#map-card .queue-card")).ToBeVisibleAsync();
        await Expect(page.Locator("#kinds")).ToBeVisibleAsync();

        var linkTarget = new string('a', 32);
        await page.Locator("#import-file").SetInputFilesAsync(new FilePayload
        {
            Name = "from-elsewhere.json",
            MimeType = "application/json",
            Buffer = File([new { traceId = linkTarget, spanId = "00f067aa0ba902b8" }]),
        });

        // Nothing live: no header figures of the app, no eviction notice, no queue or worker of the app on the map.
        await Expect(page.Locator("#source-banner")).ToContainTextAsync("from-elsewhere.json · 1 traces");
        await Expect(page.Locator("#health")).ToHaveAttributeAsync("data-health", "imported");
        await Expect(page.Locator("#kinds")).ToBeHiddenAsync();
        await Expect(page.Locator("#metrics")).ToBeHiddenAsync();
        await Expect(page.Locator("#import-figures")).ToContainTextAsync("traces1");
        await Expect(page.Locator("#notice")).ToBeHiddenAsync();
        await Expect(page.Locator("#map-card .queue-card")).ToHaveCountAsync(0);
        await Expect(page.Locator("#map-card .worker-card")).ToHaveCountAsync(0);
        await Expect(page.Locator("#map-host .node[data-id='queue:emails']")).ToHaveCountAsync(0);

        // The live app keeps working meanwhile; still nothing of it shows.
        await app.GetAsync("signup/99");
        await page.Keyboard.PressAsync("1");
        await Expect(d.TraceRows).ToHaveCountAsync(1);
        await Expect(page.Locator("#notice")).ToBeHiddenAsync();

        // The span: capped like a captured one, with no injected badge or note whatever its attributes claim.
        await d.TraceRows.First.ClickAsync();
        var row = d.SpanRows.First;
        await Expect(row).ToBeVisibleAsync();
        await Expect(row.Locator(".fault-badge")).ToHaveCountAsync(0);
        await Expect(page.Locator(".wf-scroll .wrow.injected")).ToHaveCountAsync(0);
        var name = await row.Locator(".span-name").TextContentAsync();
        Assert.Equal(1_025, name!.Length);
        Assert.EndsWith("…", name, StringComparison.Ordinal);
        await Expect(page.Locator(".span-detail .fault-callout")).ToHaveCountAsync(0);
        await Expect(page.Locator(".span-detail .attrs").First.Locator("tr")).ToHaveCountAsync(64);
        var value = await page.Locator(".span-detail .attrs").First.Locator("tr", new() { HasText = "extra.000" }).Locator("td").TextContentAsync();
        Assert.Equal(1_025, value!.Length);

        // A valid link to another trace is a link; back to live restores the live app.
        await Expect(page.Locator(".span-detail .links button")).ToHaveCountAsync(1);
        await page.ClickAsync("#back-live");
        await Expect(page.Locator("#kinds")).ToBeVisibleAsync();
        await Expect(page.Locator("#notice")).ToBeVisibleAsync();
        await Expect(page.Locator("#health")).Not.ToHaveAttributeAsync("data-health", "imported");
        d.AssertNoErrors();
    }
}
