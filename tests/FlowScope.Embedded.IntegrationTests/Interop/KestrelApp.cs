using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace FlowScope.Embedded.IntegrationTests.Interop;

/// <summary>A real Kestrel app on a free loopback port: requests and outbound HttpClient calls go over sockets.</summary>
internal sealed class KestrelApp : IAsyncDisposable
{
    private KestrelApp(WebApplication app, Uri address)
    {
        App = app;
        Address = address;
        Client = new HttpClient { BaseAddress = address };
    }

    public WebApplication App { get; }

    public Uri Address { get; }

    public HttpClient Client { get; }

    public static async Task<KestrelApp> StartAsync(bool flowScope, Action<IServiceCollection>? services = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        if (flowScope)
        {
            builder.Services.AddFlowScope(o => o.Sources.Add("TestApp"));
        }

        builder.Services.AddHttpClient("self");
        services?.Invoke(builder.Services);
        var app = builder.Build();
        if (flowScope)
        {
            app.UseFlowScope();
        }

        app.Use(async (context, next) =>
        {
            context.Response.Headers["X-Inline"] = "1";
            await next(context);
        });
        TestApp.MapTestEndpoints(app);
        app.MapGet("/downstream", () => "downstream");
        app.MapGet("/upstream", async (IHttpClientFactory factory, HttpContext context) =>
        {
            var client = factory.CreateClient("self");
            var own = $"{context.Request.Scheme}://{context.Request.Host}";
            return "upstream+" + await client.GetStringAsync(own + "/downstream");
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new KestrelApp(app, new Uri(address));
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
    }
}
