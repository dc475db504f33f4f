using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using FlowScope.Embedded.Queues;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

[assembly: CollectionBehavior(DisableTestParallelization = true)] // ActivityListeners are process-wide

namespace FlowScope.Embedded.BrowserTests;

/// <summary>A real Kestrel app on a free loopback port with FlowScope added, as a user would add it.</summary>
public sealed class BrowserTestApp : IAsyncDisposable
{
    public const string SourceName = "BrowserTestApp";

    /// <summary>Rendered as HTML, this would set <c>window.__xss</c>.</summary>
    public const string XssPayload = "<img src=x onerror=window.__xss=1>";

    public static readonly ActivitySource Source = new(SourceName);

    private BrowserTestApp(WebApplication app, Uri root)
    {
        App = app;
        Root = root;
        Client = new HttpClient { BaseAddress = root };
    }

    public WebApplication App { get; }

    /// <summary>The app's root, including the path base when there is one (always ends with a slash).</summary>
    public Uri Root { get; }

    public Uri Dashboard => new(Root, "_flowscope/");

    public HttpClient Client { get; }

    /// <param name="pathBase">A path base for the app, or <see langword="null"/>.</param>
    /// <param name="configure">Changes to FlowScope's options.</param>
    /// <param name="flowScope">More registrations on FlowScope's builder (for example <see cref="AddTestSimulators"/>).</param>
    public static async Task<BrowserTestApp> StartAsync(string? pathBase = null, Action<FlowScopeOptions>? configure = null, Action<IFlowScopeBuilder>? flowScope = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var flowScopeBuilder = builder.Services.AddFlowScope(o =>
        {
            o.Sources.Add(SourceName);
            configure?.Invoke(o);
        }).AddQueue<EmailRequested, EmailHandler>("emails", o =>
        {
            o.MaxAttempts = 2;
            o.BackoffBase = TimeSpan.FromMilliseconds(5);
        });
        flowScope?.Invoke(flowScopeBuilder);
        builder.Services.AddHostedService<DigestWorker>();
        var app = builder.Build();
        if (pathBase is not null)
        {
            app.UsePathBase(pathBase);
        }

        app.UseFlowScope();
        app.MapGet("/hello/{id:int}", (int id) => $"hello {id}");
        app.MapGet("/nested", (ILogger<BrowserTestApp> logger) =>
        {
            using (var outer = Source.StartActivity("outer step"))
            {
                outer?.SetTag("order.id", "A-42");
                logger.LogWarning("Stock is running low for {Sku}", "SKU-7");
                using var inner = Source.StartActivity("inner step");
                inner?.SetTag("step.detail", "deep");
                Thread.Sleep(3);
            }

            return "nested";
        });
        app.MapGet("/boom", string () => throw new InvalidOperationException("The order could not be found."));
        app.MapGet("/xss", () =>
        {
            using var activity = Source.StartActivity(XssPayload);
            activity?.SetTag("payload", XssPayload);
            return "xss";
        });
        app.MapGet("/orders/{id:int}", (int id) =>
        {
            using (var validate = Source.StartActivity("validate order"))
            {
                validate?.SetTag("order.id", id.ToString(System.Globalization.CultureInfo.InvariantCulture));
                Thread.Sleep(id % 2 == 0 ? 2 : 6);
            }

            using (var query = Source.StartActivity("SELECT orders", ActivityKind.Client))
            {
                query?.SetTag("db.system.name", "postgresql");
                query?.SetTag("db.namespace", "shop");
                Thread.Sleep(4);
            }

            using (var pay = Source.StartActivity("POST /charge", ActivityKind.Client))
            {
                pay?.SetTag("server.address", "payments.example");
                pay?.SetTag("http.request.method", "POST");
                Thread.Sleep(id % 3 == 0 ? 12 : 5);
            }

            using (var publish = Source.StartActivity("publish order-placed", ActivityKind.Producer))
            {
                publish?.SetTag("messaging.destination.name", "order-events");
            }

            return $"order {id}";
        });
        app.MapGet("/signup/{id:int}", (int id, bool? fail, IQueue<EmailRequested> emails) =>
            emails.TryEnqueue(new EmailRequested(id, fail ?? false)) ? Results.Accepted() : Results.StatusCode(503));
        app.MapGet("/bulk/{id:int}", (int id) =>
        {
            // A trace of about 12 KB: a thousand of them overflow the smallest store (8 MB).
            using var activity = Source.StartActivity("bulk work");
            for (var i = 0; i < 12; i++)
            {
                activity?.SetTag($"bulk.part{i}", new string((char)('a' + ((id + i) % 26)), 1_000));
            }

            return "ok";
        });
        app.MapGet("/slow", async () =>
        {
            await Task.Delay(120);
            return "slow";
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var root = new Uri(address.TrimEnd('/') + (pathBase ?? string.Empty) + "/");
        return new BrowserTestApp(app, root);
    }

    /// <summary>
    /// Two simulators: <c>chat</c> (a quick traced step, 20 runs/s, at most 50) and <c>checkout</c> (2 runs/s, every
    /// fourth run fails).
    /// </summary>
    public static void AddTestSimulators(IFlowScopeBuilder flowScope)
    {
        flowScope.AddSimulator("chat", async (services, ct) =>
        {
            using var send = Source.StartActivity("send chat message");
            send?.SetTag("chat.room", "lobby");
            await Task.Delay(2, ct);
        }, o =>
        {
            o.Description = "A user posts a message to the lobby";
            o.RatePerSecond = 20;
            o.MaxRatePerSecond = 50;
        });
        var checkouts = 0;
        flowScope.AddSimulator("checkout", (services, ct) => Interlocked.Increment(ref checkouts) % 4 == 0
            ? Task.FromException(new InvalidOperationException("The cart was empty."))
            : Task.CompletedTask, o =>
        {
            o.Description = "A shopper checks out (every fourth one fails)";
            o.RatePerSecond = 2;
            o.MaxRatePerSecond = 10;
        });
    }

    /// <summary>Calls an endpoint of the app (path without a leading slash).</summary>
    public async Task<string> GetAsync(string path)
    {
        using var response = await Client.GetAsync(new Uri(Root, path));
        return await response.Content.ReadAsStringAsync();
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
    }
}

/// <summary>A message of the test app's "emails" queue.</summary>
public sealed record EmailRequested(int UserId, bool Fail);

/// <summary>Sends the welcome e-mail; fails every attempt when the message asks for it (so it is dead-lettered).</summary>
public sealed class EmailHandler : IQueueHandler<EmailRequested>
{
    public Task HandleAsync(EmailRequested message, QueueMessageContext context, CancellationToken cancellationToken)
    {
        if (message.Fail)
        {
            throw new InvalidOperationException($"The mail server refused user {message.UserId}.");
        }

        using var send = BrowserTestApp.Source.StartActivity("send welcome e-mail");
        return Task.CompletedTask;
    }
}

/// <summary>A background service that just stays running (listed as a worker).</summary>
public sealed class DigestWorker : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => Task.Delay(Timeout.Infinite, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
}
