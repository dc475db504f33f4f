using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FlowScope.Embedded.IntegrationTests.Privacy;

/// <summary>The Conduit-like API app, hosted as a user would host it: a Startup class or a WebApplication.</summary>
internal sealed class ConduitHost : IAsyncDisposable
{
    private readonly IHost _host;

    private ConduitHost(IHost host, WebApplication? application, IReadOnlyList<string> ownMiddleware, RecordingLoggerProvider logs)
    {
        Logs = logs;
        _host = host;
        Application = application;
        OwnMiddleware = ownMiddleware;
        Client = host.GetTestClient();
    }

    public IServiceProvider Services => _host.Services;

    public HttpClient Client { get; }

    /// <summary>What the app logs (its console), FlowScope's provider aside.</summary>
    public RecordingLoggerProvider Logs { get; }

    /// <summary>The WebApplication variant's application (null for the Startup class).</summary>
    public WebApplication? Application { get; }

    public MiddlewareRecorder Recorder => Services.GetRequiredService<MiddlewareRecorder>();

    /// <summary>Hosts <see cref="ConduitStartup"/> (Startup class, <c>UseMvc</c>).</summary>
    public static async Task<ConduitHost> StartStartupAsync(bool flowScope, string cors = "before", Dictionary<string, string?>? settings = null)
    {
        var logs = new RecordingLoggerProvider();
        var host = await new HostBuilder()
            .ConfigureAppConfiguration(c => c.AddInMemoryCollection(Settings(flowScope, cors, settings)))
            .ConfigureLogging((context, logging) =>
            {
                logging.ClearProviders();
                logging.AddConfiguration(context.Configuration.GetSection("Logging"));
                logging.AddProvider(logs); // the app's console
            })
            .ConfigureWebHost(web => web
                .UseTestServer()
                .ConfigureServices(AddRecorder)
                .UseStartup<ConduitStartup>())
            .StartAsync();
        return new ConduitHost(host, null, [], logs);
    }

    /// <summary>The same app as a WebApplication (minimal hosting, <c>UseMvc</c>, no endpoint routing).</summary>
    public static async Task<ConduitHost> StartWebApplicationAsync(bool flowScope, Action<WebApplication>? map = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.WebHost.UseTestServer();
        builder.Logging.ClearProviders();
        var logs = new RecordingLoggerProvider();
        builder.Logging.AddProvider(logs);
        if (flowScope)
        {
            builder.Services.AddFlowScope();
        }

        ConduitStartup.AddServices(builder.Services);
        AddRecorder(builder.Services);
        var app = builder.Build();
        app.UseMiddleware<ConduitErrorHandlingMiddleware>();
        app.UseCors();
        app.UseAuthentication();
        if (flowScope)
        {
            app.UseFlowScope();
        }

        map?.Invoke(app);
#pragma warning disable MVC1005 // EnableEndpointRouting = false is set in ConduitStartup.AddServices, out of the analyzer's sight
        app.UseMvc(routes => routes.MapRoute("default", "{controller}/{action=Index}/{id?}"));
#pragma warning restore MVC1005
        var own = MiddlewareRecorder.ComponentsOf(app);
        await app.StartAsync();
        return new ConduitHost(app, app, own, logs);
    }

    /// <summary>The WebApplication's own middleware list as its Program left it, read before it started (empty for the Startup class).</summary>
    public IReadOnlyList<string> OwnMiddleware { get; }

    private static void AddRecorder(IServiceCollection services)
    {
        services.AddSingleton<MiddlewareRecorder>();
        services.AddTransient<IStartupFilter>(sp => sp.GetRequiredService<MiddlewareRecorder>());
    }

    private static Dictionary<string, string?> Settings(bool flowScope, string cors, Dictionary<string, string?>? extra)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Conduit:FlowScope"] = flowScope ? "true" : "false",
            ["Conduit:Cors"] = cors,
        };
        foreach (var (key, value) in extra ?? [])
        {
            settings[key] = value;
        }

        return settings;
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _host.StopAsync();
        _host.Dispose();
    }
}
