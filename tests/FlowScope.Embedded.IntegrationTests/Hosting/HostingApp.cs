using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FlowScope.Embedded.IntegrationTests.Hosting;

/// <summary>
/// Test app (b): minimal APIs, controllers and Razor Pages side by side, a SignalR hub and a gRPC service, on real
/// Kestrel on loopback: HTTP/1.1 on one port (browsers, SignalR, WebSockets), cleartext HTTP/2 on another (gRPC).
/// The app's own error-handling middleware is outermost, before <c>UseFlowScope()</c>, as apps usually have it.
/// </summary>
internal sealed class HostingApp : IAsyncDisposable
{
    private HostingApp(WebApplication app, Uri http1, Uri http2)
    {
        App = app;
        Http1 = http1;
        Http2 = http2;
        Client = new HttpClient(Untraced()) { BaseAddress = http1 };
    }

    public WebApplication App { get; }

    /// <summary>The HTTP/1.1 address.</summary>
    public Uri Http1 { get; }

    /// <summary>The cleartext HTTP/2 address (gRPC).</summary>
    public Uri Http2 { get; }

    public HttpClient Client { get; }

    /// <summary>
    /// A handler whose calls start no activity: the test plays a browser or a client in another process, so the
    /// app's requests are the roots of their traces (the listener is process-wide and would record the test's calls).
    /// </summary>
    public static SocketsHttpHandler Untraced() => new() { ActivityHeadersPropagator = null };

    public CaughtExceptions Caught => App.Services.GetRequiredService<CaughtExceptions>();

    public static async Task<HostingApp> StartAsync()
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, 0, o => o.Protocols = HttpProtocols.Http1);
            kestrel.Listen(IPAddress.Loopback, 0, o => o.Protocols = HttpProtocols.Http2);
        });
        builder.Services.AddFlowScope();
        builder.Services.AddSingleton<CaughtExceptions>();
        builder.Services.AddControllers().AddApplicationPart(typeof(HostingApp).Assembly);
        builder.Services.AddRazorPages(o => o.RootDirectory = "/Hosting/Pages").AddApplicationPart(typeof(HostingApp).Assembly);
        builder.Services.AddSignalR();
        builder.Services.AddGrpc();

        var app = builder.Build();
        app.UseMiddleware<AppErrorHandlingMiddleware>();
        app.UseFlowScope();
        app.UseWebSockets();
        app.UseMiddleware<FlakyMiddleware>();

        var todos = app.MapGroup("/todos");
        todos.MapGet("/", () => new[] { "write tests" });
        todos.MapPost("/", (Todo todo) => Results.Created($"/todos/{todo.Title.Length}", todo));
        todos.MapDelete("/", () => Results.Problem("Todos cannot be cleared.", statusCode: StatusCodes.Status409Conflict));
        app.MapGet("/boom", string () => throw new InvalidOperationException("The minimal API failed."));
        app.Map("/ws", LongLived.WebSocketAsync);
        app.MapGet("/events", LongLived.EventsAsync);
        app.MapControllers();
        app.MapRazorPages();
        app.MapHub<ChatHub>("/hubs/chat");
        app.MapGrpcService<StockService>();

        await app.StartAsync();
        var addresses = app.Urls.Select(u => new Uri(u)).ToArray();
        return new HostingApp(app, addresses[0], addresses[1]);
    }

    public async Task<JsonElement> GetJsonAsync(string url)
    {
        using var response = await Client.GetAsync(url);
        Assert.True(response.IsSuccessStatusCode, $"GET {url} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    /// <summary>Waits until the trace list holds a trace matching <paramref name="predicate"/>; returns its summary.</summary>
    public async Task<JsonElement> WaitForTraceAsync(Func<JsonElement, bool> predicate, string because, string query = "")
    {
        JsonElement found = default;
        var seen = string.Empty;
        var deadline = DateTime.UtcNow + Eventually.DefaultTimeout;
        while (DateTime.UtcNow < deadline)
        {
            var list = await GetJsonAsync("/_flowscope/api/traces?limit=1000" + query);
            var traces = list.GetProperty("traces").EnumerateArray().ToArray();
            if (traces.FirstOrDefault(predicate) is { ValueKind: JsonValueKind.Object } match)
            {
                found = match.Clone();
                return found;
            }

            seen = string.Join(" | ", traces.Select(t => $"{t.Str("name")} [{t.Str("kind")}, route {t.Str("route")}]"));
            await Task.Delay(20);
        }

        Assert.Fail($"No trace: {because}. The list held: {seen}");
        return found;
    }

    /// <summary>The spans of a trace, as the API returns them.</summary>
    public async Task<JsonElement[]> SpansAsync(JsonElement summary)
    {
        var detail = await GetJsonAsync("/_flowscope/api/traces/" + summary.GetProperty("traceId").GetString());
        return [.. detail.GetProperty("spans").EnumerateArray().Select(s => s.Clone())];
    }

    /// <summary>Waits for the trace named <paramref name="name"/> and returns its spans.</summary>
    public async Task<JsonElement[]> TraceNamedAsync(string name) =>
        await SpansAsync(await WaitForTraceAsync(t => t.GetProperty("name").GetString() == name, name));

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
    }

    public sealed record Todo(string Title);
}

/// <summary>Reading the API's JSON.</summary>
internal static class Json
{
    public static string? Str(this JsonElement element, string property) =>
        element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    public static string? Attr(this JsonElement span, string key) =>
        span.GetProperty("attributes").TryGetProperty(key, out var value) ? value.GetString() : null;
}
