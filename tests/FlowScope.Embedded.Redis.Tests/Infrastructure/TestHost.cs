using FlowScope.Embedded.Redis.Internal;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FlowScope.Embedded.Redis.Tests.Infrastructure;

/// <summary>A real Kestrel app on 127.0.0.1 (free port) with FlowScope and Redis persistence switched on by configuration.</summary>
internal sealed class TestHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TestHost(WebApplication app, HttpClient client)
    {
        _app = app;
        Client = client;
    }

    public HttpClient Client { get; }

    public IServiceProvider Services => _app.Services;

    public RedisStreamsRuntime Redis => _app.Services.GetRequiredService<RedisStreamsRuntime>();

    public static async Task<TestHost> StartAsync(string instance, string? connectionString, string prefix, Action<RedisStreamsOptions>? configure = null, IDictionary<string, string?>? settings = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Configuration["FlowScope:InstanceName"] = instance;
        builder.Configuration["FlowScope:Redis:ConnectionString"] = connectionString;
        builder.Configuration["FlowScope:Redis:KeyPrefix"] = prefix;
        builder.Configuration["FlowScope:Redis:PollInterval"] = "00:00:00.200";
        builder.Configuration["FlowScope:Redis:RetryBaseDelay"] = "00:00:00.050";
        builder.Configuration["FlowScope:Redis:RetryMaxDelay"] = "00:00:00.500";
        builder.Configuration["FlowScope:Redis:ConnectTimeout"] = "00:00:01";
        builder.Configuration["FlowScope:Redis:OperationTimeout"] = "00:00:01";
        if (settings is not null)
        {
            builder.Configuration.AddInMemoryCollection(settings);
        }

        builder.Services.AddFlowScope().AddRedisStreams(configure);

        var app = builder.Build();
        app.UseFlowScope();
        app.MapGet("/hello/{name}", (string name) => $"hello {name}");
        app.MapGet("/fail/{name}", string (string name) => throw new InvalidOperationException($"failed {name}"));
        await app.StartAsync();

        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new TestHost(app, new HttpClient { BaseAddress = new Uri(address), Timeout = TimeSpan.FromSeconds(10) });
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
