using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
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

    public static async Task<BrowserTestApp> StartAsync(string? pathBase = null, Action<FlowScopeOptions>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddFlowScope(o =>
        {
            o.Sources.Add(SourceName);
            configure?.Invoke(o);
        });
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
