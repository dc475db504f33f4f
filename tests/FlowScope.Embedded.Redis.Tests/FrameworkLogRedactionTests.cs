using System.Net;
using System.Text;
using System.Text.Json;
using FlowScope.Embedded.Redis.Internal;
using FlowScope.Embedded.Redis.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.HttpLogging;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FlowScope.Embedded.Redis.Tests;

/// <summary>
/// With framework log capture on, secrets planted in the query, the headers, a route value and log templates are
/// redacted before spans are persisted: the Redis stream holds none of them, and [REDACTED] where they were.
/// </summary>
public class FrameworkLogRedactionTests(RedisServer server) : IClassFixture<RedisServer>
{
    private static readonly string[] s_secrets = ["qs-pass-4f1e", "qs-token-8d2c", "hdr-secret-71aa", "route-secret-93b7", "tmpl-key-5c3d", "tmpl-interp-6e4f"];

    [Theory]
    [InlineData("Information")]
    [InlineData("Debug")]
    public async Task The_Redis_stream_holds_no_secret_from_framework_or_app_log_entries(string level)
    {
        var prefix = RedisStack.NewPrefix();
        await using var app = await StartAsync(prefix, level);
        // Requests from outside the process, as a browser's: an in-process HttpClient would add client spans whose
        // URLs hold the path as sent (FlowScope cannot know which segment of another service's path is a secret).
        Assert.Equal(200, await SendAsync(app.Address, "/tags?password=qs-pass-4f1e&token=qs-token-8d2c&page=2", "Authorization: Bearer hdr-secret-71aa"));
        Assert.Equal(200, await SendAsync(app.Address, "/reset/route-secret-93b7"));

        using var redis = await RedisStack.ConnectAsync(server);
        StackExchange.Redis.StreamEntry[] entries = [];
        await Eventually.WaitUntilAsync(
            async () =>
            {
                entries = await redis.GetDatabase().StreamRangeAsync(prefix + ":spans");
                var names = entries.SelectMany(e => StreamEntryFormat.Decode(e).Batch.Decode()).Select(s => s.Name).ToHashSet();
                return names.Contains("GET /tags") && names.Contains("GET /reset/{token}");
            },
            TimeSpan.FromSeconds(30),
            "both requests are persisted");

        // The stored bytes (entries are not compressed by default, so text is stored as UTF-8)...
        var raw = string.Join("\n", entries.Select(e => Encoding.UTF8.GetString((byte[])e[StreamEntryFormat.PayloadField]!)));
        Assert.Equal(StreamEntryFormat.None, entries[0][StreamEntryFormat.CompressionField].ToString());

        // ...and what a reader decodes from them.
        var decoded = JsonSerializer.Serialize(entries.SelectMany(e => StreamEntryFormat.Decode(e).Batch.Decode())
            .Select(s => new { s.Name, s.Attributes, Events = s.Events.Select(ev => new { ev.Name, ev.Attributes }) }));
        foreach (var secret in s_secrets)
        {
            Assert.DoesNotContain(secret, raw, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, decoded, StringComparison.Ordinal);
        }

        var text = decoded.Replace("\\u0026", "&", StringComparison.Ordinal);
        Assert.Contains("Request starting HTTP/1.1 GET http://127.0.0.1:", text, StringComparison.Ordinal);
        Assert.Contains("/tags?password=[REDACTED]&token=[REDACTED]&page=2", text, StringComparison.Ordinal);
        Assert.Contains("/reset/[REDACTED]", text, StringComparison.Ordinal);
        Assert.Contains("Calling https://pay.example/charge?api_key=[REDACTED]&amount=3", text, StringComparison.Ordinal);
        Assert.Contains("Fetched https://cdn.example/a?secret=[REDACTED]", text, StringComparison.Ordinal);
    }

    /// <summary>One HTTP/1.1 request over a plain socket; returns the status code.</summary>
    private static async Task<int> SendAsync(Uri address, string pathAndQuery, params string[] headers)
    {
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(address.Host, address.Port);
        await using var stream = tcp.GetStream();
        var request = $"GET {pathAndQuery} HTTP/1.1\r\nHost: {address.Authority}\r\n{string.Concat(headers.Select(h => h + "\r\n"))}Connection: close\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        using var reader = new StreamReader(stream, Encoding.ASCII);
        var status = await reader.ReadLineAsync() ?? string.Empty;
        await reader.ReadToEndAsync();
        return int.Parse(status.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
    }

    private sealed class App(WebApplication app, Uri address) : IAsyncDisposable
    {
        public Uri Address { get; } = address;

        public IServiceProvider Services => app.Services;

        public async ValueTask DisposeAsync()
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    /// <summary>A Kestrel app on loopback persisting to Redis, with FlowScope's provider set to record framework entries.</summary>
    private async Task<App> StartAsync(string prefix, string level)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(new ConsoleLike()); // the app's console: hosting logs "Request starting" when some provider listens
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["FlowScope:Redis:ConnectionString"] = server.ConnectionString,
            ["FlowScope:Redis:KeyPrefix"] = prefix,
            ["FlowScope:MinimumLogLevel"] = level,
            ["Logging:LogLevel:Default"] = level,
            ["Logging:FlowScope:LogLevel:Default"] = level,
            ["Logging:FlowScope:LogLevel:Microsoft.AspNetCore"] = level,
        });
        builder.Services.AddFlowScope().AddRedisStreams();
        builder.Services.AddHttpLogging(o =>
        {
            o.LoggingFields = HttpLoggingFields.RequestPropertiesAndHeaders;
            o.RequestHeaders.Add("Authorization");
        });
        var app = builder.Build();
        app.UseHttpLogging();
        app.UseFlowScope();
        app.MapGet("/tags", (ILogger<FrameworkLogRedactionTests> logger, HttpContext context) =>
        {
            logger.LogInformation("Calling {Url}", "https://pay.example/charge?api_key=tmpl-key-5c3d&amount=3");
#pragma warning disable CA2254 // a message built by interpolation, as apps write them
            logger.LogInformation($"Fetched https://cdn.example/a?secret=tmpl-interp-6e4f for {context.Request.Path}");
#pragma warning restore CA2254
            return "tags";
        });
        app.MapGet("/reset/{token}", (string token, ILogger<FrameworkLogRedactionTests> logger) =>
        {
            logger.LogDebug("Reset link opened with {ResetCode}", token);
            return "reset";
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new App(app, new Uri(address));
    }

    private sealed class ConsoleLike : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new Logger();

        public void Dispose()
        {
        }

        private sealed class Logger : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
            }
        }
    }
}
