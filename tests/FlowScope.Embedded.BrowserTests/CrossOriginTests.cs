using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Playwright;

namespace FlowScope.Embedded.BrowserTests;

/// <summary>
/// What a page of another origin can get from the dashboard in a real browser: another app on this machine (same
/// site, other port) and a DNS-rebinding page (another site whose name resolves to 127.0.0.1).
/// </summary>
[Collection(BrowserSuite.Name)]
public sealed class CrossOriginTests(BrowserFixture fixture)
{
    /// <summary>Runs in the attacking page: reads what it can of the dashboard's API, records how far it got.</summary>
    private const string AttackScript = """
        async (target) => {
          const results = {};
          for (const path of ['api/stats', 'api/faults', 'api/traces']) {
            try {
              const response = await fetch(target + path);
              results[path] = response.status + ':' + (await response.text()).slice(0, 200);
            } catch (e) {
              results[path] = 'blocked';
            }
          }
          return JSON.stringify(results);
        }
        """;

    [Fact]
    public async Task Another_app_on_this_machine_can_neither_read_the_API_nor_get_it_answered()
    {
        // A page of another origin on the same machine: 127.0.0.1 on another port is the same site to the browser.
        await using var other = await OtherSite.StartAsync();
        var context = await fixture.Browser.NewContextAsync();
        try
        {
            var page = await context.NewPageAsync();

            // What the app answered (a page script sees no status at all): read from ASP.NET Core's hosting events.
            using var answers = new ServerAnswers("/_flowscope/api/");

            await page.GotoAsync(new Uri(other.Address, "/attack.html").ToString());
            var results = await page.EvaluateAsync<string>(AttackScript, fixture.App.Dashboard.ToString());
            using var json = JsonDocument.Parse(results);
            foreach (var result in json.RootElement.EnumerateObject())
            {
                Assert.Equal("blocked", result.Value.GetString()); // the script read nothing
            }

            // The app refused them (the browser called them same-site: another port of 127.0.0.1), without CORS headers.
            await answers.WaitForAsync(3);
            Assert.All(answers.Seen, a => Assert.Equal((403, false, "same-site"), a));
        }
        finally
        {
            await context.CloseAsync();
        }
    }

    [Fact]
    public async Task A_DNS_rebinding_page_gets_421_from_the_dashboard_it_reaches_on_loopback()
    {
        // evil.example resolves to 127.0.0.1 in this browser, as after a rebinding attack; the page itself came from
        // the attacker's server first (served here by the test), then its requests reach the app on loopback.
        var port = fixture.App.Root.Port;
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = BrowserFixture.ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--host-resolver-rules=MAP evil.example 127.0.0.1",
                // Chromium blocks a public page's requests to loopback itself (Private/Local Network Access); other
                // browsers do not. Switched off here so the requests reach the app, as they would from those browsers.
                "--disable-features=BlockInsecurePrivateNetworkRequests,PrivateNetworkAccessSendPreflights,PrivateNetworkAccessRespectPreflightResults,LocalNetworkAccessChecks"],
        });
        var page = await browser.NewPageAsync();
        await page.RouteAsync($"http://evil.example:{port}/attack.html", route => route.FulfillAsync(new RouteFulfillOptions
        {
            ContentType = "text/html",
            Body = "<!doctype html><title>cat pictures</title><p>nothing to see</p>",
        }));

        await page.GotoAsync($"http://evil.example:{port}/attack.html");
        var results = await page.EvaluateAsync<string>(AttackScript, "/_flowscope/");
        using (var json = JsonDocument.Parse(results))
        {
            foreach (var result in json.RootElement.EnumerateObject())
            {
                var value = result.Value.GetString()!;
                Assert.StartsWith("421:", value, StringComparison.Ordinal); // same-origin to the browser, refused by name
                Assert.DoesNotContain("captured", value, StringComparison.Ordinal);
                Assert.DoesNotContain("targets", value, StringComparison.Ordinal);
            }
        }

        var navigation = await page.GotoAsync($"http://evil.example:{port}/_flowscope/");
        Assert.Equal(421, navigation!.Status);

        // The same browser through a loopback name opens the dashboard.
        var own = await page.GotoAsync($"http://localhost:{port}/_flowscope/");
        Assert.Equal(200, own!.Status);
    }

    /// <summary>
    /// The app's answers to requests under a path, from ASP.NET Core's hosting diagnostics (its HttpContext at the end
    /// of each request): status, whether a CORS header was sent, and the Sec-Fetch-Site the browser sent.
    /// </summary>
    private sealed class ServerAnswers : IObserver<DiagnosticListener>, IObserver<KeyValuePair<string, object?>>, IDisposable
    {
        private readonly string _path;
        private readonly List<(int Status, bool Cors, string? Site)> _seen = [];
        private readonly List<IDisposable> _subscriptions = [];

        public ServerAnswers(string path)
        {
            _path = path;
            _subscriptions.Add(DiagnosticListener.AllListeners.Subscribe(this));
        }

        public IReadOnlyList<(int Status, bool Cors, string? Site)> Seen
        {
            get
            {
                lock (_seen)
                {
                    return [.. _seen];
                }
            }
        }

        public async Task WaitForAsync(int count)
        {
            var deadline = DateTime.UtcNow.AddSeconds(15);
            while (Seen.Count < count && DateTime.UtcNow < deadline)
            {
                await Task.Delay(20);
            }

            Assert.Equal(count, Seen.Count);
        }

        public void OnNext(DiagnosticListener listener)
        {
            if (listener.Name == "Microsoft.AspNetCore")
            {
                lock (_subscriptions)
                {
                    _subscriptions.Add(listener.Subscribe(this, name => name.StartsWith("Microsoft.AspNetCore.Hosting.HttpRequestIn", StringComparison.Ordinal)));
                }
            }
        }

        public void OnNext(KeyValuePair<string, object?> value)
        {
            if (value.Key == "Microsoft.AspNetCore.Hosting.HttpRequestIn.Stop" && value.Value is HttpContext context
                && context.Request.PathBase.Add(context.Request.Path).Value!.Contains(_path, StringComparison.Ordinal))
            {
                var cors = context.Response.Headers.Keys.Any(k => k.StartsWith("Access-Control-", StringComparison.OrdinalIgnoreCase));
                lock (_seen)
                {
                    _seen.Add((context.Response.StatusCode, cors, context.Request.Headers["Sec-Fetch-Site"].FirstOrDefault()));
                }
            }
        }

        public void OnCompleted()
        {
        }

        public void OnError(Exception error)
        {
        }

        public void Dispose()
        {
            lock (_subscriptions)
            {
                _subscriptions.ForEach(s => s.Dispose());
            }
        }
    }

    /// <summary>Another web app on this machine, serving a page of its own.</summary>
    private sealed class OtherSite(WebApplication app, Uri address) : IAsyncDisposable
    {
        public Uri Address { get; } = address;

        public static async Task<OtherSite> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.ClearProviders();
            var app = builder.Build();
            app.MapGet("/attack.html", () => Results.Content("<!doctype html><title>other app</title><p>hello</p>", "text/html"));
            await app.StartAsync();
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            return new OtherSite(app, new Uri(address));
        }

        public async ValueTask DisposeAsync()
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }
}
