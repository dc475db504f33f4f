using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace FlowScope.Samples.Messenger.Tests;

/// <summary>The UI in Chromium: two browser contexts (two people) sign up and chat.</summary>
public sealed class BrowserTests : IAsyncLifetime
{
    private IPlaywright? _playwright;
    private IBrowser? _browser;

    public async Task InitializeAsync()
    {
        // Never download a browser: the system's Chromium is driven.
        Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
        }

        _playwright?.Dispose();
    }

    [Fact]
    public async Task Two_people_sign_up_in_their_own_browsers_and_chat_through_the_ui()
    {
        await using var host = await MessengerHost.StartAsync();
        await using var adaContext = await _browser!.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 760 } });
        await using var bobContext = await _browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 760 } });
        var errors = new List<string>();
        var ada = await OpenAsync(adaContext, host, errors);
        var bob = await OpenAsync(bobContext, host, errors);

        await SignUpAsync(ada, "ada");
        await SignUpAsync(bob, "bob");
        await Expect(ada.Locator("#member-list li[data-user='bob']")).ToHaveClassAsync("online");

        // Typing shows on the other side, then the message arrives there.
        await ada.Locator("#message-input").PressSequentiallyAsync("hello from ada");
        await Expect(bob.Locator("#typing")).ToHaveTextAsync("ada is typing…");
        await ada.Locator("#message-input").PressAsync("Enter");
        await Expect(bob.Locator("#messages .message .text").Last).ToHaveTextAsync("hello from ada");
        await Expect(ada.Locator("#messages .message.mine .status").Last).ToHaveTextAsync("✓✓ 1/1");

        // Markup in a message is shown as text, never run.
        await bob.Locator("#message-input").FillAsync("<img src=x onerror=alert(1)> hi ada");
        await bob.Locator("#send").ClickAsync();
        await Expect(ada.Locator("#messages .message .text").Last).ToHaveTextAsync("<img src=x onerror=alert(1)> hi ada");
        Assert.Equal(0, await ada.Locator("#messages img").CountAsync());

        // The bot answers a command in the room; both see it.
        await ada.Locator("#message-input").FillAsync("/weather Lisbon");
        await ada.Locator("#message-input").PressAsync("Enter");
        await Expect(bob.Locator("#messages .message.bot .text").Last).ToContainTextAsync("@ada Forecast for Lisbon");
        await Expect(ada.Locator("#messages .message.bot .text").Last).ToContainTextAsync("@ada Forecast for Lisbon");

        // Each message links to its trace in the dashboard.
        var traceLink = await ada.Locator("#messages .message.mine a").First.GetAttributeAsync("href");
        Assert.Matches("^/_flowscope/\\?trace=[0-9a-f]{32}$", traceLink);

        // A second room: bob creates it, ada joins by opening it.
        await bob.Locator("#new-room-name").FillAsync("book-club");
        await bob.Locator("#new-room button").ClickAsync();
        await Expect(bob.Locator("#room-title")).ToHaveTextAsync("# book-club");
        await ada.ReloadAsync();
        await ada.Locator("#room-list li[data-room='book-club'] button").ClickAsync();
        await Expect(ada.Locator("#room-title")).ToHaveTextAsync("# book-club");
        await ada.Locator("#message-input").FillAsync("joined!");
        await ada.Locator("#message-input").PressAsync("Enter");
        await Expect(bob.Locator("#messages .message .text").Last).ToHaveTextAsync("joined!");

        await ada.Locator("#room-list li[data-room='general'] button").ClickAsync();
        await Expect(ada.Locator("#messages .message")).ToHaveCountAsync(4);
        Directory.CreateDirectory("screenshots");
        await ada.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine("screenshots", "messenger.png") });
        await bob.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine("screenshots", "messenger-bob.png") });

        // Signing out returns to the form; signing in again restores the history.
        await bob.Locator("#logout").ClickAsync();
        await Expect(bob.Locator("#auth-form")).ToBeVisibleAsync();
        await Expect(ada.Locator("#member-list li[data-user='bob']")).Not.ToHaveClassAsync("online");
        await bob.Locator("#auth-name").FillAsync("bob");
        await bob.Locator("#auth-password").FillAsync("wrong password");
        await bob.Locator("#sign-in").ClickAsync();
        await Expect(bob.Locator("#auth-error")).ToHaveTextAsync("Unknown name or wrong password.");
        await bob.Locator("#auth-password").FillAsync("password-of-bob");
        await bob.Locator("#sign-in").ClickAsync();
        await Expect(bob.Locator("#room-title")).ToHaveTextAsync("# general");
        await Expect(bob.Locator("#messages .message")).ToHaveCountAsync(4);

        Assert.Empty(errors);
    }

    private static async Task<IPage> OpenAsync(IBrowserContext context, MessengerHost host, List<string> errors)
    {
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(10_000);
        page.PageError += (_, e) => errors.Add(e);
        page.Console += (_, m) =>
        {
            // The expected 401 of "who am I?" before signing in is logged by the browser; nothing else may be.
            if (m.Type == "error" && !m.Text.Contains("401", StringComparison.Ordinal))
            {
                errors.Add(m.Text);
            }
        };
        await page.GotoAsync(host.Address.ToString());
        return page;
    }

    private static async Task SignUpAsync(IPage page, string name)
    {
        await page.Locator("#auth-name").FillAsync(name);
        await page.Locator("#auth-password").FillAsync($"password-of-{name}");
        await page.Locator("#sign-up").ClickAsync();
        await Expect(page.Locator("#me")).ToHaveTextAsync(name);
        await Expect(page.Locator("#connection")).ToHaveTextAsync("online");
        await Expect(page.Locator("#room-title")).ToHaveTextAsync("# general");
    }
}
