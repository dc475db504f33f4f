using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using FlowScope.Embedded.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.HttpLogging;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Trace;

namespace FlowScope.Embedded.IntegrationTests.Privacy;

/// <summary>
/// An app with its own OpenTelemetry export, HTTP logging with bodies and HTTP metrics: browsing the dashboard adds
/// nothing to any of them, and the bodies HTTP logging records for the app's own requests reach FlowScope redacted.
/// </summary>
public sealed class AppTelemetryTests
{
    private const string HttpLoggingCategory = "Microsoft.AspNetCore.HttpLogging.HttpLoggingMiddleware";
    private const string AccessToken = "jwt-hun-access-7c21e9";

    private sealed class TelemetryApp : IAsyncDisposable
    {
        private readonly MeterListener _meters = new();
        private readonly List<string?> _durations = [];

        public required WebApplication App { get; init; }

        public required List<Activity> Exported { get; init; }

        public required RecordingLoggerProvider Logs { get; init; }

        public HttpClient Client => App.GetTestClient();

        public IReadOnlyList<string?> DurationRoutes
        {
            get
            {
                lock (_durations)
                {
                    return [.. _durations];
                }
            }
        }

        public Activity[] ExportedSnapshot()
        {
            lock (Exported)
            {
                return [.. Exported];
            }
        }

        public void ListenToDurations()
        {
            var factory = App.Services.GetRequiredService<IMeterFactory>();
            _meters.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Name == "http.server.request.duration" && ReferenceEquals(instrument.Meter.Scope, factory))
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _meters.SetMeasurementEventCallback<double>((_, _, tags, _) =>
            {
                string? route = "(none)";
                foreach (var tag in tags)
                {
                    if (tag.Key == "http.route")
                    {
                        route = tag.Value?.ToString();
                    }
                }

                lock (_durations)
                {
                    _durations.Add(route);
                }
            });
            _meters.Start();
        }

        public async ValueTask DisposeAsync()
        {
            _meters.Dispose();
            await App.StopAsync();
            await App.DisposeAsync();
        }
    }

    private static async Task<TelemetryApp> StartAsync(Dictionary<string, string?>? configuration = null)
    {
        var exported = new List<Activity>();
        var logs = new RecordingLoggerProvider();
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.WebHost.UseTestServer();
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(logs);
        builder.Logging.SetMinimumLevel(LogLevel.Information);
        builder.Configuration.AddInMemoryCollection(configuration ?? []);
        builder.Services.AddFlowScope();
        builder.Services.AddOpenTelemetry().WithTracing(t => t.AddAspNetCoreInstrumentation().AddInMemoryExporter(exported));
        builder.Services.AddHttpLogging(o =>
        {
            o.LoggingFields = HttpLoggingFields.All;
            o.MediaTypeOptions.AddText("application/json");
        });
        var app = builder.Build();
        app.UseHttpLogging();
        app.UseFlowScope();
        app.MapGet("/hello/{id:int}", (int id) => $"hello {id}");
        app.MapPost("/users/login", (LoginBody body) => Results.Json(new { user = new { email = body.Email, accessToken = AccessToken } }));
        var telemetry = new TelemetryApp { App = app, Exported = exported, Logs = logs };
        telemetry.ListenToDurations();
        await app.StartAsync();
        return telemetry;
    }

    private sealed record LoginBody(string Email, string Password);

    private static async Task BrowseDashboardAsync(HttpClient client)
    {
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/_flowscope/")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/_flowscope/app.js")).StatusCode);
        foreach (var api in new[] { "stats", "traces?limit=100", "metrics", "map", "operator" })
        {
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/_flowscope/api/" + api)).StatusCode);
        }

        using var list = JsonDocument.Parse(await client.GetStringAsync("/_flowscope/api/traces"));
        foreach (var trace in list.RootElement.GetProperty("traces").EnumerateArray().Take(3))
        {
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/_flowscope/api/traces/" + trace.GetProperty("traceId").GetString())).StatusCode);
        }

        await using var stream = await SseClient.ConnectAsync(client, "/_flowscope/api/stream");
        await stream.ReadUntilAsync(e => e.Name == "hydrate");
    }

    [Fact]
    public async Task Browsing_the_dashboard_exports_no_span_writes_no_HTTP_log_and_records_no_request_duration()
    {
        await using var app = await StartAsync();
        var client = app.Client;

        // The app's own requests, then the dashboard, then the app again: the app's telemetry sees the app only.
        Assert.Equal("hello 1", await client.GetStringAsync("/hello/1"));
        await app.App.Services.GetRequiredService<ITraceStore>().QueryAsync(new TraceQuery());
        await Eventually.TrueAsync(async () => (await app.App.Services.GetRequiredService<ITraceStore>().QueryAsync(new TraceQuery())).Traces.Count > 0);
        await BrowseDashboardAsync(client);
        await BrowseDashboardAsync(client);
        Assert.Equal("hello 2", await client.GetStringAsync("/hello/2"));
        using (var login = await client.PostAsJsonAsync("/users/login", new { email = "ada@example.com", password = "hunter2" }))
        {
            Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        }

        await Eventually.TrueAsync(() => Task.FromResult(app.ExportedSnapshot().Length >= 3 && app.DurationRoutes.Count >= 3), because: "the app's three requests are exported and measured");

        // Export: the app's three server spans, nothing of the dashboard.
        var exported = app.ExportedSnapshot();
        Assert.Equal(3, exported.Length);
        Assert.All(exported, a => Assert.DoesNotContain("_flowscope", a.DisplayName + " " + string.Join(" ", a.TagObjects.Select(t => t.Value)), StringComparison.Ordinal));

        // Metrics: one duration per app request, none for the dashboard's.
        Assert.Equal(["/hello/{id:int}", "/hello/{id:int}", "/users/login"], app.DurationRoutes.Order(StringComparer.Ordinal));

        // HTTP logging: the app's requests with their bodies, no dashboard request and no trace JSON.
        var httpLogs = app.Logs.Of(HttpLoggingCategory).ToList();
        Assert.Contains(httpLogs, e => e.Text.Contains("/hello/2", StringComparison.Ordinal));
        Assert.Contains(httpLogs, e => e.Text.Contains(AccessToken, StringComparison.Ordinal)); // the app logs its bodies
        Assert.DoesNotContain(httpLogs, e => e.Text.Contains("_flowscope", StringComparison.Ordinal) || e.Text.Contains("traceId", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Bodies_HTTP_logging_records_for_the_app_s_own_requests_reach_FlowScope_redacted()
    {
        // Framework logs on at Information for FlowScope, as docs/configuration.md explains.
        await using var app = await StartAsync(new() { ["Logging:FlowScope:LogLevel:Microsoft.AspNetCore"] = "Information" });
        using (var login = await app.Client.PostAsJsonAsync("/users/login", new { email = "ada@example.com", password = "hunter2-body-pw" }))
        {
            Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        }

        var store = app.App.Services.GetRequiredService<ITraceStore>();
        TraceDetail? trace = null;
        await Eventually.TrueAsync(async () =>
        {
            var summary = (await store.QueryAsync(new TraceQuery { Name = "/users/login" })).Traces.FirstOrDefault();
            trace = summary is null ? null : await store.GetTraceAsync(summary.TraceId);
            return trace?.Spans.SelectMany(s => s.Events).Any(e => e.Name.StartsWith("ResponseBody", StringComparison.Ordinal)) == true;
        }, because: "the response body entry is recorded");

        var detail = await app.Client.GetStringAsync($"/_flowscope/api/traces/{trace!.Summary.TraceId}");
        Assert.DoesNotContain(AccessToken, detail, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2-body-pw", detail, StringComparison.Ordinal);

        // JSON bodies keep their shape: secret-looking fields redacted, the rest visible.
        Assert.Contains("ada@example.com", detail, StringComparison.Ordinal);
        Assert.Contains("accessToken", detail, StringComparison.Ordinal);
        Assert.Contains("[REDACTED]", detail, StringComparison.Ordinal);
    }
}
