using System.Net;
using System.Text.Json;
using FlowScope.Embedded.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.HttpLogging;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FlowScope.Embedded.IntegrationTests.Privacy;

/// <summary>
/// With framework log capture on (Information, Debug), secrets planted in the query, the headers, a route value and
/// log templates reach neither the store nor the API nor the live stream; [REDACTED] stands where they were.
/// </summary>
public sealed class FrameworkLogRedactionTests
{
    /// <summary>Every secret the requests below carry, each unique so a search finds nothing else.</summary>
    internal static readonly string[] Secrets = ["qs-pass-4f1e", "qs-token-8d2c", "hdr-secret-71aa", "hdr-apikey-2b9e", "route-secret-93b7", "tmpl-key-5c3d", "tmpl-interp-6e4f"];

    internal const string ArticlesUrl = "/conduit/articles?password=qs-pass-4f1e&token=qs-token-8d2c&page=2";
    internal const string ResetUrl = "/conduit/users/reset/route-secret-93b7";

    /// <summary>FlowScope's provider configured for framework entries (and Debug recorded), as docs/configuration.md explains.</summary>
    internal static Dictionary<string, string?> LogSettings(string level) => new()
    {
        ["Logging:FlowScope:LogLevel:Default"] = level,
        ["Logging:FlowScope:LogLevel:Microsoft.AspNetCore"] = level,
        ["Logging:LogLevel:Default"] = level,
        ["FlowScope:MinimumLogLevel"] = level,
        ["Conduit:HttpLogging"] = "true",
    };

    /// <summary>The requests carrying the secrets: query parameters, credentials in headers, a secret route value.</summary>
    internal static async Task SendSecretsAsync(HttpClient client)
    {
        using var articles = new HttpRequestMessage(HttpMethod.Get, ArticlesUrl);
        articles.Headers.Add("Authorization", "Token hdr-secret-71aa");
        articles.Headers.Add("X-Api-Key", "hdr-apikey-2b9e");
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(articles)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(ResetUrl)).StatusCode);
    }

    [Theory]
    [InlineData("Information", false)]
    [InlineData("Debug", false)]
    [InlineData("Information", true)]
    [InlineData("Debug", true)]
    public async Task Secrets_in_framework_log_messages_and_properties_are_redacted_everywhere(string level, bool endpointRouting)
    {
        await using var host = endpointRouting ? await StartWithEndpointRoutingAsync(LogSettings(level)) : null;
        await using var startup = endpointRouting ? null : await ConduitHost.StartStartupAsync(flowScope: true, cors: "before", LogSettings(level));
        var client = host?.GetTestClient() ?? startup!.Client;
        var services = host?.Services ?? startup!.Services;
        var store = services.GetRequiredService<ITraceStore>();

        await using var stream = await SseClient.ConnectAsync(client, "/_flowscope/api/stream");
        await stream.ReadUntilAsync(e => e.Name == "hydrate");
        await SendSecretsAsync(client);

        var traces = await WaitForBothAsync(store, level);
        var streamed = await ReadStreamUntilAsync(stream, traces.Select(t => t.Summary.TraceId));

        var api = new List<string> { await client.GetStringAsync("/_flowscope/api/traces?limit=100"), await client.GetStringAsync("/_flowscope/api/map") };
        foreach (var trace in traces)
        {
            api.Add(await client.GetStringAsync($"/_flowscope/api/traces/{trace.Summary.TraceId}"));
        }

        var stored = traces.Select(t => JsonSerializer.Serialize(t.Spans.Select(s => new { s.Name, s.StatusMessage, s.Attributes, Events = s.Events.Select(e => new { e.Name, e.Attributes }) })));
        foreach (var output in api.Concat(streamed).Concat(stored))
        {
            foreach (var secret in Secrets)
            {
                Assert.DoesNotContain(secret, output, StringComparison.Ordinal);
            }
        }

        // [REDACTED] where the secrets were, harmless values kept.
        var articles = api[2] + api[3];
        Assert.Contains("password=[REDACTED]\u0026token=[REDACTED]\u0026page=2", Unescape(articles), StringComparison.Ordinal);
        Assert.Contains("Request starting HTTP/1.1 GET http://localhost/conduit/articles?password=[REDACTED]\u0026token=[REDACTED]\u0026page=2", Unescape(articles), StringComparison.Ordinal);
        Assert.Contains("Calling https://pay.example/charge?api_key=[REDACTED]\u0026amount=3", Unescape(articles), StringComparison.Ordinal);
        Assert.Contains("Fetched https://cdn.example/a?secret=[REDACTED]\u0026size=2", Unescape(articles), StringComparison.Ordinal);
        Assert.Contains("/conduit/users/reset/[REDACTED]", Unescape(articles), StringComparison.Ordinal);
        Assert.Contains("\"Authorization\":\"[REDACTED]\"", Unescape(articles), StringComparison.Ordinal); // the app's HTTP logging listed it
    }

    /// <summary>Reads live-stream events until each trace has been sent; returns their data.</summary>
    internal static async Task<List<string>> ReadStreamUntilAsync(SseClient stream, IEnumerable<string> traceIds)
    {
        var missing = traceIds.ToHashSet();
        var data = new List<string>();
        await stream.ReadUntilAsync(e =>
        {
            if (e.Name == "traces")
            {
                data.Add(e.Data);
                missing.RemoveWhere(id => e.Data.Contains(id, StringComparison.Ordinal));
            }

            return missing.Count == 0;
        });
        return data;
    }

    private static string Unescape(string json) => json.Replace("\\u0026", "&", StringComparison.Ordinal).Replace("\\u0022", "\\\"", StringComparison.Ordinal);

    /// <summary>Waits for the two requests' traces with their framework entries (Request starting, at the level asked).</summary>
    internal static async Task<List<TraceDetail>> WaitForBothAsync(ITraceStore store, string level)
    {
        List<TraceDetail> found = [];
        await Eventually.TrueAsync(async () =>
        {
            found = [];
            foreach (var summary in (await store.QueryAsync(new TraceQuery { Limit = 100 })).Traces)
            {
                if (await store.GetTraceAsync(summary.TraceId) is { } detail && detail.Spans.Any(s => s.Events.Any(e => e.Name.StartsWith("Request finished", StringComparison.Ordinal))))
                {
                    found.Add(detail);
                }
            }

            return found.Count >= 2;
        }, because: "both requests are stored with their framework log entries");

        var events = found.SelectMany(t => t.Spans).SelectMany(s => s.Events).ToList();
        Assert.Contains(events, e => e.Attributes.Any(a => a.Key == "log.category" && a.Value.StartsWith("Microsoft.AspNetCore.Mvc", StringComparison.Ordinal)));
        if (level == "Debug")
        {
            Assert.Contains(events, e => e.Attributes.Any(a => a.Key == "log.level" && a.Value == "Debug"));
        }

        return found;
    }

    /// <summary>The same controllers with endpoint routing (<c>MapControllers</c>) and HTTP logging that lists credentials.</summary>
    private static async Task<WebApplication> StartWithEndpointRoutingAsync(Dictionary<string, string?> settings)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.WebHost.UseTestServer();
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(new RecordingLoggerProvider()); // the app's console
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddFlowScope();
        builder.Services.AddControllers().AddApplicationPart(typeof(ConduitStartup).Assembly);
        builder.Services.AddHttpLogging(o =>
        {
            o.LoggingFields = HttpLoggingFields.All;
            o.RequestHeaders.Add("Authorization");
            o.RequestHeaders.Add("X-Api-Key");
        });
        var app = builder.Build();
        app.UseHttpLogging();
        app.UseFlowScope();
        app.MapControllers();
        await app.StartAsync();
        return app;
    }
}
