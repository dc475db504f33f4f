using System.Diagnostics;
using System.Globalization;
using System.Net.WebSockets;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FlowScope.Embedded.BrowserTests;

/// <summary>
/// An API app shaped like a real one, on Kestrel: static files, a health check, an OpenAPI document, endpoints that
/// answer 400/401/404/429 (a real rate limiter), an articles endpoint that runs one query per article (N+1) through a
/// database client that traces like OpenTelemetry's database instrumentations, a WebSocket, deeply nested work and a
/// failure deep inside a request.
/// </summary>
public sealed class ApiTestApp : IAsyncDisposable
{
    public const string DbSourceName = "ApiTestApp.Db";
    public const string WorkSourceName = "ApiTestApp.Work";
    public const int ArticleCount = 23;

    /// <summary>The normalised statement the articles endpoint repeats; holds markup that must stay text.</summary>
    public const string RepeatedStatement = "SELECT \"a\".\"Id\", \"a\".\"Body\" FROM \"Comments\" AS \"a\" WHERE \"a\".\"ArticleId\" = ? /* <img src=x onerror=window.__xss=1> */";

    private static readonly ActivitySource Db = new(DbSourceName);
    private static readonly ActivitySource Work = new(WorkSourceName);

    private readonly string _webRoot;

    private ApiTestApp(WebApplication app, Uri root, string webRoot)
    {
        App = app;
        Root = root;
        _webRoot = webRoot;
        Client = new HttpClient { BaseAddress = root };
    }

    public WebApplication App { get; }

    public Uri Root { get; }

    public Uri Dashboard => new(Root, "_flowscope/");

    public HttpClient Client { get; }

    public static async Task<ApiTestApp> StartAsync(Action<FlowScopeOptions>? configure = null)
    {
        var webRoot = Directory.CreateTempSubdirectory("flowscope-api-").FullName;
        await File.WriteAllTextAsync(Path.Combine(webRoot, "app.js"), "console.log('app');");
        await File.WriteAllTextAsync(Path.Combine(webRoot, "styles.css"), "body { margin: 0; }");

        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing", WebRootPath = webRoot });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddFlowScope(o =>
        {
            o.Sources.Add(DbSourceName);
            o.Sources.Add(WorkSourceName);
            configure?.Invoke(o);
        });
        builder.Services.AddHealthChecks();
        builder.Services.AddRateLimiter(o =>
        {
            o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            o.AddFixedWindowLimiter("strict", l =>
            {
                l.PermitLimit = 1;
                l.Window = TimeSpan.FromMinutes(10);
                l.QueueLimit = 0;
            });
        });

        var app = builder.Build();
        app.UseFlowScope();
        app.UseStaticFiles(new StaticFileOptions { FileProvider = new PhysicalFileProvider(webRoot) });
        app.UseWebSockets();
        app.UseRateLimiter();
        app.MapHealthChecks("/health");
        app.MapGet("/openapi/v1.json", () => Results.Json(new { openapi = "3.1.0" }));
        app.MapGet("/me", () => Results.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Sign in first"));
        app.MapPost("/orders", () => Results.ValidationProblem(new Dictionary<string, string[]> { ["quantity"] = ["Must be positive."] }));
        app.MapGet("/orders/{id:int}", (int id) => id == 404 ? Results.NotFound() : Results.Ok(new { id }));
        app.MapGet("/quota", () => "ok").RequireRateLimiting("strict");
        app.MapGet("/articles", LoadArticles);
        app.MapGet("/deep/{levels:int}", (int levels) => Nest(Math.Clamp(levels, 1, 60), failAt: -1));
        app.MapGet("/fail-deep", () => Nest(12, failAt: 9));
        app.MapGet("/wait/{ms:int}", async (int ms) =>
        {
            using (Work.StartActivity("wait"))
            {
                await Task.Delay(Math.Clamp(ms, 0, 2_000));
            }

            return "waited";
        });
        app.Map("/ws", async (HttpContext context) =>
        {
            if (!context.WebSockets.IsWebSocketRequest)
            {
                return Results.BadRequest();
            }

            using var socket = await context.WebSockets.AcceptWebSocketAsync();
            var buffer = new byte[1024];
            while (true)
            {
                var received = await socket.ReceiveAsync(buffer, context.RequestAborted);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
                    return Results.Empty;
                }

                await socket.SendAsync(buffer.AsMemory(0, received.Count), received.MessageType, received.EndOfMessage, context.RequestAborted);
            }
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new ApiTestApp(app, new Uri(address.TrimEnd('/') + "/"), webRoot);
    }

    /// <summary>One query for the list, then one per article: the classic N+1, marked as the capture marks it.</summary>
    private static IResult LoadArticles(HttpContext context)
    {
        var totalMs = 0.0;
        using (var load = Work.StartActivity("load article comments"))
        {
            using (var list = Db.StartActivity("SELECT Articles", ActivityKind.Client))
            {
                Tag(list, "SELECT \"a\".\"Id\" FROM \"Articles\" AS \"a\"");
            }

            for (var i = 1; i <= ArticleCount; i++)
            {
                var started = Stopwatch.GetTimestamp();
                using (var query = Db.StartActivity("SELECT Comments", ActivityKind.Client))
                {
                    Tag(query, RepeatedStatement.Replace("?", "@__articleId_0", StringComparison.Ordinal));
                    Thread.SpinWait(2_000);
                }

                totalMs += Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            }

            load?.SetTag("flowscope.db.repeated_statement", RepeatedStatement);
            load?.SetTag("flowscope.db.repeated_count", ArticleCount.ToString(CultureInfo.InvariantCulture));
            load?.SetTag("flowscope.db.repeated_ms", totalMs.ToString("0.###", CultureInfo.InvariantCulture));
        }

        var request = context.Features.Get<IHttpActivityFeature>()?.Activity;
        request?.SetTag("flowscope.db.count", (ArticleCount + 1).ToString(CultureInfo.InvariantCulture));
        request?.SetTag("flowscope.db.n_plus_one", ArticleCount.ToString(CultureInfo.InvariantCulture));
        request?.SetTag("flowscope.db.duplicates", "0");
        return Results.Ok(new { articles = ArticleCount });
    }

    private static void Tag(Activity? query, string statement)
    {
        query?.SetTag("db.system.name", "sqlite");
        query?.SetTag("db.namespace", "blog");
        query?.SetTag("db.operation.name", "SELECT");
        query?.SetTag("db.query.text", statement);
    }

    /// <summary>Work nested <paramref name="levels"/> deep; the level <paramref name="failAt"/> fails (and is handled).</summary>
    private static string Nest(int levels, int failAt)
    {
        var open = new Stack<Activity?>();
        for (var level = 1; level <= levels; level++)
        {
            var step = Work.StartActivity($"level {level} of the nested work with a long descriptive name");
            if (level == failAt)
            {
                step?.SetStatus(ActivityStatusCode.Error, "The nested step failed on purpose.");
            }

            open.Push(step);
        }

        while (open.Count > 0)
        {
            open.Pop()?.Dispose();
        }

        return $"nested {levels}";
    }

    /// <summary>Calls an endpoint of the app (path without a leading slash) and returns the status code.</summary>
    public async Task<int> SendAsync(HttpMethod method, string path)
    {
        using var request = new HttpRequestMessage(method, new Uri(Root, path));
        using var response = await Client.SendAsync(request);
        return (int)response.StatusCode;
    }

    public Task<int> GetAsync(string path) => SendAsync(HttpMethod.Get, path);

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
        try
        {
            Directory.Delete(_webRoot, recursive: true);
        }
        catch (IOException)
        {
            // Left to the temp folder's own cleanup.
        }
    }
}
