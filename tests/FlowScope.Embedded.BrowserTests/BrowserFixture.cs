using Microsoft.Playwright;

namespace FlowScope.Embedded.BrowserTests;

/// <summary>One system Chromium and one app for the whole collection; each test gets a new browser context.</summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    public const string ChromiumPath = "/usr/bin/chromium";

    private IPlaywright? _playwright;

    public IBrowser Browser { get; private set; } = null!;

    public BrowserTestApp App { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        // Never download a browser: the tests drive the system Chromium.
        Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");

        // The tests call the app with HttpClient from the same process: without this switch each call would be
        // an outgoing client span that becomes the root of the request's trace.
        AppContext.SetSwitch("System.Net.Http.EnableActivityPropagation", false);
        if (!File.Exists(ChromiumPath))
        {
            throw new InvalidOperationException($"{ChromiumPath} is missing: install it (apt-get install chromium) or run ./test.sh, which does.");
        }

        Assertions.SetDefaultExpectTimeout(15_000);
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
        App = await BrowserTestApp.StartAsync();
    }

    public async Task DisposeAsync()
    {
        if (App is not null)
        {
            await App.DisposeAsync();
        }

        if (Browser is not null)
        {
            await Browser.CloseAsync();
        }

        _playwright?.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class BrowserSuite : ICollectionFixture<BrowserFixture>
{
    public const string Name = "browser";
}

/// <summary>A page in a fresh context that records console errors and page errors.</summary>
public sealed class DashboardPage : IAsyncDisposable
{
    private readonly List<string> _errors = [];

    private DashboardPage(IBrowserContext context, IPage page)
    {
        Context = context;
        Page = page;
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                lock (_errors)
                {
                    _errors.Add($"console: {message.Text}");
                }
            }
        };
        page.PageError += (_, error) =>
        {
            lock (_errors)
            {
                _errors.Add($"page error: {error}");
            }
        };
    }

    public IBrowserContext Context { get; }

    public IPage Page { get; }

    public static async Task<DashboardPage> OpenAsync(BrowserFixture fixture, Uri url, int width = 1440, int height = 900, Func<IPage, Task>? beforeNavigation = null)
    {
        var context = await fixture.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            ViewportSize = new ViewportSize { Width = width, Height = height },
            AcceptDownloads = true,
            ColorScheme = ColorScheme.Dark,
        });
        var page = await context.NewPageAsync();
        var dashboard = new DashboardPage(context, page);
        if (beforeNavigation is not null)
        {
            await beforeNavigation(page);
        }

        await page.GotoAsync(url.ToString());
        return dashboard;
    }

    public IReadOnlyList<string> Errors
    {
        get
        {
            lock (_errors)
            {
                return [.. _errors];
            }
        }
    }

    public void AssertNoErrors() => Assert.True(Errors.Count == 0, "Browser errors:\n" + string.Join("\n", Errors));

    /// <summary>Like <see cref="AssertNoErrors"/>, but allows the console lines Chromium writes for HTTP error answers.</summary>
    public void AssertNoErrorsButRefusedRequests()
    {
        var errors = Errors.Where(e => !e.Contains("Failed to load resource: the server responded with a status of", StringComparison.Ordinal)).ToList();
        Assert.True(errors.Count == 0, "Browser errors:\n" + string.Join("\n", errors));
    }

    /// <summary>Waits until the live stream is connected.</summary>
    public Task WaitLiveAsync() => Assertions.Expect(Page.Locator("#conn")).ToHaveAttributeAsync("data-state", "live");

    public ILocator TraceRows => Page.Locator("#list-scroll .trow");

    public ILocator SpanRows => Page.Locator(".detail-pane .wf-scroll .wrow[role=treeitem]");

    public async ValueTask DisposeAsync()
    {
        await Context.CloseAsync();
    }
}
