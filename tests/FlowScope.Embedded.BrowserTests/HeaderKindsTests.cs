using System.Net.WebSockets;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace FlowScope.Embedded.BrowserTests;

/// <summary>
/// The header reports every kind of root work (requests by default, the others selectable), counts errors where they
/// happen, and keeps long-lived connections out of request latency.
/// </summary>
[Collection(BrowserSuite.Name)]
public sealed class HeaderKindsTests(BrowserFixture fixture)
{
    [Fact]
    public async Task A_WebSocket_is_a_connection_not_a_request_and_its_lifetime_stays_out_of_request_latency()
    {
        await using var app = await ApiTestApp.StartAsync();
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(200, await app.GetAsync($"orders/{i}"));
        }

        // A WebSocket open for 1.5 s, echoing a message.
        using (var socket = new ClientWebSocket())
        {
            await socket.ConnectAsync(new Uri(app.Root.ToString().Replace("http://", "ws://", StringComparison.Ordinal) + "ws"), CancellationToken.None);
            await socket.SendAsync("ping"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);
            var echo = new byte[16];
            await socket.ReceiveAsync(echo, CancellationToken.None);
            await Task.Delay(1_500); // the connection's lifetime is what this test measures
            await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
        }

        await using var d = await DashboardPage.OpenAsync(fixture, app.Dashboard, 1600, 1000);
        var page = d.Page;

        // The header names what it counts.
        await Expect(page.Locator("#stat-captured-box dt")).ToHaveTextAsync("spans captured");
        await Expect(page.Locator("#stat-kept-box dt")).ToHaveTextAsync("traces kept");
        await Expect(page.Locator("#stat-kept")).ToHaveTextAsync(new Regex(@"^\d+$"));
        await Expect(page.Locator("#stat-memory-box dt")).ToHaveTextAsync("store");
        await Expect(page.Locator("#stat-memory")).ToHaveTextAsync(new Regex(@"^[\d.]+ (KB|MB)/32 MB$"));

        // Requests are the default view; their p99 knows nothing of the 1.5 s connection.
        var requests = page.Locator("#kinds button[data-kind='http']");
        await Expect(requests).ToHaveAttributeAsync("aria-checked", "true");
        await Expect(page.Locator("#m-rate-label")).ToHaveTextAsync("req/s");
        await Expect(page.Locator("#m-p99")).Not.ToHaveTextAsync("–");
        Assert.True(ParseMs(await page.Locator("#m-p99").TextContentAsync()) < 1_000, "request p99 excludes the connection");

        // The connection is counted and shown as one.
        var connections = page.Locator("#kinds button[data-kind='connection']");
        await connections.ClickAsync();
        await Expect(connections).ToHaveAttributeAsync("aria-checked", "true");
        await Expect(page.Locator("#m-p99-label")).ToHaveTextAsync("open p99");
        Assert.True(ParseMs(await page.Locator("#m-p99").TextContentAsync()) >= 1_400, "a connection's lifetime is how long it stayed open");
        await Expect(d.TraceRows.Filter(new() { HasText = "/ws" }).Locator(".kind-tag")).ToHaveTextAsync("connection");

        using var metrics = JsonDocument.Parse(await app.Client.GetStringAsync("_flowscope/api/metrics"));
        var http = metrics.RootElement.GetProperty("kinds").EnumerateArray().Single(k => k.GetProperty("kind").GetString() == "http");
        Assert.Equal(5, http.GetProperty("total").GetInt64());
        d.AssertNoErrors();
    }

    [Fact]
    public async Task Messages_and_simulator_runs_have_their_own_figures_and_their_failures_make_the_health()
    {
        await using var app = await BrowserTestApp.StartAsync(flowScope: BrowserTestApp.AddTestSimulators);
        await app.GetAsync("hello/1");
        for (var i = 0; i < 6; i++)
        {
            await app.GetAsync($"signup/{i}?fail=true"); // each message fails both attempts
        }

        await using var d = await DashboardPage.OpenAsync(fixture, new Uri(app.Dashboard, "?view=controls"), 1600, 1000);
        var page = d.Page;
        var checkout = page.Locator("#sim-table tr[data-simulator='checkout']");
        await checkout.Locator(".sim-start").ClickAsync();
        await Expect(checkout).ToHaveClassAsync(new Regex("running"));

        // Requests succeeded; the failing messages make the app unhealthy and the header says where.
        var messages = page.Locator("#kinds button[data-kind='message']");
        await Expect(messages).ToBeVisibleAsync();
        await Expect(messages).ToHaveAttributeAsync("data-level", "critical");
        await Expect(page.Locator("#health")).ToHaveAttributeAsync("data-health", "critical");
        await Expect(page.Locator("#health")).ToHaveAttributeAsync("title", new Regex("messages handled: [\\d.]+% failed"));
        await Expect(page.Locator("#m-err")).ToHaveTextAsync("0.0%");

        await messages.ClickAsync();
        await Expect(page.Locator("#m-rate-label")).ToHaveTextAsync("msg/s");
        await Expect(page.Locator("#m-err-box")).ToHaveClassAsync(new Regex("bad"));

        // Every fourth checkout fails: the simulator's own figures show it.
        var simulators = page.Locator("#kinds button[data-kind='simulator']");
        await Expect(simulators).ToBeVisibleAsync();
        await simulators.ClickAsync();
        await Expect(page.Locator("#m-rate-label")).ToHaveTextAsync("runs/s");
        await Expect(page.Locator("#m-err")).Not.ToHaveTextAsync("0.0%");
        await checkout.Locator(".sim-stop").ClickAsync();
        d.AssertNoErrors();
    }

    private static double ParseMs(string? text)
    {
        var m = Regex.Match(text?.Trim() ?? "", @"^([\d.]+) (µs|ms|s)$");
        Assert.True(m.Success, $"unexpected duration text '{text}'");
        var value = double.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        return m.Groups[2].Value switch { "µs" => value / 1000, "s" => value * 1000, _ => value };
    }
}
