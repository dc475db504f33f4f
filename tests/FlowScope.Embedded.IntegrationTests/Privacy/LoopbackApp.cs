using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FlowScope.Embedded.IntegrationTests.Privacy;

/// <summary>A real Kestrel app on 127.0.0.1 (free port) with FlowScope, a CORS policy for any origin and the app's own endpoint.</summary>
internal sealed class LoopbackApp : IAsyncDisposable
{
    private LoopbackApp(WebApplication app, Uri address, RecordingLoggerProvider logs)
    {
        App = app;
        Address = address;
        Logs = logs;
        Client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(20) };
    }

    public WebApplication App { get; }

    public Uri Address { get; }

    public HttpClient Client { get; }

    /// <summary>The app's log output (its console).</summary>
    public RecordingLoggerProvider Logs { get; }

    public int Port => Address.Port;

    public static async Task<LoopbackApp> StartAsync(
        Dictionary<string, string?>? settings = null,
        Action<IServiceCollection>? services = null,
        Action<WebApplication>? beforeFlowScope = null,
        Action<WebApplication>? map = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var logs = new RecordingLoggerProvider();
        builder.Logging.AddProvider(logs);
        builder.Configuration.AddInMemoryCollection(settings ?? []);
        builder.Services.AddFlowScope();
        builder.Services.AddCors(o => o.AddDefaultPolicy(p => p.AllowAnyOrigin().AllowAnyHeader().AllowAnyMethod()));
        services?.Invoke(builder.Services);
        var app = builder.Build();
        beforeFlowScope?.Invoke(app);
        app.UseCors();
        app.UseFlowScope();
        app.MapGet("/hello/{id:int}", (int id) => $"hello {id}");
        map?.Invoke(app);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new LoopbackApp(app, new Uri(address), logs);
    }

    /// <summary>Sends a request over the socket naming <paramref name="host"/> in its Host header (the port is added when absent).</summary>
    public async Task<HttpResponseMessage> GetAsync(string path, string? host = null, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (host is not null)
        {
            request.Headers.Host = host.Contains(':', StringComparison.Ordinal) && !host.EndsWith(']') ? host : $"{host}:{Port}";
        }

        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return await Client.SendAsync(request);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
    }
}
