using System.Diagnostics;
using System.Text.Encodings.Web;
using System.Threading.Channels;
using FlowScope.Embedded.Queues;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Trace;

// Shared by two projects with different analyzer settings: MVC actions are instance methods (CA1822), and the
// queue types are named for what they are (CA1711).
#pragma warning disable CA1822, CA1711

namespace FlowScope.Embedded.Overhead;

/// <summary>
/// The measured app, shared by the end-to-end harness (this project, on Kestrel) and the in-process request-path
/// benchmark (bench/FlowScope.Embedded.Benchmarks): its services per configuration and its pipeline — a JSON MVC
/// controller behind five typical middleware, a minimal endpoint and a request that hops through a queue.
/// </summary>
public static class OverheadApp
{
    /// <summary>The configurations: none, FlowScope, the OpenTelemetry SDK, and a bare request activity (diagnosis floor).</summary>
    public static readonly string[] Modes = ["baseline", "flowscope", "otel", "activity"];

    public static void ConfigureServices(IServiceCollection services, string mode)
    {
        services.AddControllers().AddApplicationPart(typeof(ForecastController).Assembly);
        services.AddAuthentication("noop").AddScheme<AuthenticationSchemeOptions, NoopAuthHandler>("noop", null);
        if (Environment.GetEnvironmentVariable("BENCH_NOOP_MVC_FILTERS") == "1")
        {
            // Diagnosis only: what MVC itself costs for one global resource, action and result filter doing nothing.
            services.Configure<MvcOptions>(o => o.Filters.Add(new NoopFilter()));
        }

        switch (mode)
        {
            case "flowscope":
                services.AddFlowScope().AddQueue<WorkItem, WorkItemHandler>("work");
                services.AddSingleton<IWorkQueue, FlowScopeWorkQueue>();
                if (Environment.GetEnvironmentVariable("BENCH_NO_MVC_FILTER") == "1")
                {
                    // Diagnosis only (bench/overhead-diag.sh): FlowScope without its MVC filter, to price the filter alone.
                    services.PostConfigure<MvcOptions>(o =>
                    {
                        foreach (var f in o.Filters.Where(f => f.GetType().Name == "MvcStageFilter").ToList()) o.Filters.Remove(f);
                    });
                }
                break;
            case "otel":
                services.AddSingleton<CountingExporter>();
                services.AddOpenTelemetry().WithTracing(t => t
                    .SetSampler(new AlwaysOnSampler())
                    .AddAspNetCoreInstrumentation()
                    .AddHttpClientInstrumentation()
                    .AddProcessor(sp => new BatchActivityExportProcessor(sp.GetRequiredService<CountingExporter>())));
                goto default;
            case "activity":
                ActivitySource.AddActivityListener(new ActivityListener
                {
                    ShouldListenTo = source => source.Name == "Microsoft.AspNetCore",
                    Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
                });
                goto default;
            default:
                services.AddSingleton<ChannelWorkQueue>();
                services.AddSingleton<IWorkQueue>(sp => sp.GetRequiredService<ChannelWorkQueue>());
                services.AddHostedService<ChannelWorker>();
                break;
        }
    }

    public static void MapPipeline(WebApplication app, string mode)
    {
        if (mode == "flowscope")
        {
            app.UseFlowScope();
        }

        // The five "typical" middleware.
        app.UseMiddleware<RequestIdMiddleware>();      // 1. request id (own)
        app.Use((ctx, next) =>                          // 2. response headers
        {
            var h = ctx.Response.Headers;
            h["X-Content-Type-Options"] = "nosniff";
            h["X-Frame-Options"] = "DENY";
            h["Cache-Control"] = "no-store";
            return next(ctx);
        });
        app.UseRouting();                               // 3. framework routing
        app.UseAuthentication();                        // 4. no-op authentication
        app.UseMiddleware<TimingMiddleware>();          // 5. small custom timing

        app.MapControllers();
        app.MapGet("/minimal", () => "ok");

        // bench/retention.sh: twenty routes of uneven traffic, 1 % of requests failing and 0.5 % slow (by request number).
        foreach (var route in MixedCounts.Routes)
        {
            app.MapGet($"/mixed/{route}/{{n:long}}", async (long n, CancellationToken ct) =>
            {
                if (n % 100 == 0)
                {
                    MixedCounts.Errors.Add(n);
                    return Results.StatusCode(StatusCodes.Status500InternalServerError);
                }

                if (n % 200 == 1)
                {
                    MixedCounts.Slow.Add(n);
                    await Task.Delay(MixedCounts.SlowDelay, ct);
                }

                return Results.Text(route);
            });
        }
        app.MapGet("/queue", async (IWorkQueue queue, CancellationToken ct) =>
        {
            var item = new WorkItem(Random.Shared.Next(1, 1000));
            await queue.EnqueueAsync(item, ct);
            var result = await item.Done.Task.WaitAsync(ct);
            return Results.Json(new QueueResult(item.Input, result));
        });

    }
}

public sealed record WeatherForecast(DateOnly Date, int TemperatureC, string Summary)
{
    public int TemperatureF => 32 + (int)(TemperatureC / 0.5556);
}

public sealed record QueueResult(int Input, int Output);

/// <summary>The /mixed requests that failed or were slow on purpose, by number, for bench/retention.sh to look up.</summary>
public static class MixedCounts
{
    public static readonly TimeSpan SlowDelay = TimeSpan.FromMilliseconds(50);

    /// <summary>The routes, busiest first (bench/retention.lua picks them with the same weights).</summary>
    public static readonly string[] Routes =
    [
        "orders", "users", "search", "cart", "catalog", "prices", "stock", "reviews", "sessions", "images",
        "shipping", "returns", "coupons", "wishlist", "payments", "invoices", "reports", "exports", "admin", "audit",
    ];

    public static readonly System.Collections.Concurrent.ConcurrentBag<long> Errors = [];

    public static readonly System.Collections.Concurrent.ConcurrentBag<long> Slow = [];
}

[ApiController]
[Route("api/[controller]")]
public sealed class ForecastController : ControllerBase
{
    private static readonly string[] Summaries = ["Freezing", "Bracing", "Chilly", "Cool", "Mild", "Warm", "Balmy", "Hot", "Sweltering", "Scorching"];

    [HttpGet]
    public IEnumerable<WeatherForecast> Get()
    {
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        var result = new WeatherForecast[5];
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = new WeatherForecast(today.AddDays(i + 1), Random.Shared.Next(-20, 55), Summaries[Random.Shared.Next(Summaries.Length)]);
        }
        return result;
    }
}

public sealed class NoopFilter : Microsoft.AspNetCore.Mvc.Filters.IResourceFilter, Microsoft.AspNetCore.Mvc.Filters.IActionFilter, Microsoft.AspNetCore.Mvc.Filters.IResultFilter
{
    public void OnResourceExecuting(Microsoft.AspNetCore.Mvc.Filters.ResourceExecutingContext context) { }
    public void OnResourceExecuted(Microsoft.AspNetCore.Mvc.Filters.ResourceExecutedContext context) { }
    public void OnActionExecuting(Microsoft.AspNetCore.Mvc.Filters.ActionExecutingContext context) { }
    public void OnActionExecuted(Microsoft.AspNetCore.Mvc.Filters.ActionExecutedContext context) { }
    public void OnResultExecuting(Microsoft.AspNetCore.Mvc.Filters.ResultExecutingContext context) { }
    public void OnResultExecuted(Microsoft.AspNetCore.Mvc.Filters.ResultExecutedContext context) { }
}

public sealed class RequestIdMiddleware(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext ctx)
    {
        var id = ctx.Request.Headers.TryGetValue("X-Request-Id", out var v) && v.Count > 0 ? v.ToString() : ctx.TraceIdentifier;
        ctx.Items["RequestId"] = id;
        ctx.Response.Headers["X-Request-Id"] = id;
        return next(ctx);
    }
}

public sealed class TimingMiddleware(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext ctx)
    {
        var start = Stopwatch.GetTimestamp();
        ctx.Response.OnStarting(static state =>
        {
            var (c, s) = ((HttpContext, long))state;
            c.Response.Headers["Server-Timing"] = "app;dur=" + Stopwatch.GetElapsedTime(s).TotalMilliseconds.ToString("F3", System.Globalization.CultureInfo.InvariantCulture);
            return Task.CompletedTask;
        }, (ctx, start));
        return next(ctx);
    }
}

public sealed class NoopAuthHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    protected override Task<AuthenticateResult> HandleAuthenticateAsync() => Task.FromResult(AuthenticateResult.NoResult());
}

// ---- the queue hop -------------------------------------------------------------------------

public sealed class WorkItem(int input)
{
    public int Input { get; } = input;
    public TaskCompletionSource<int> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>The same work in every mode.</summary>
public static class Work
{
    public static int Compute(int input)
    {
        var acc = input;
        for (var i = 0; i < 64; i++) acc = unchecked(acc * 31 + i);
        return acc;
    }
}

public interface IWorkQueue
{
    ValueTask EnqueueAsync(WorkItem item, CancellationToken ct);
}

// baseline / otel: a plain channel drained by a BackgroundService
public sealed class ChannelWorkQueue : IWorkQueue
{
    public Channel<WorkItem> Channel { get; } = System.Threading.Channels.Channel.CreateBounded<WorkItem>(
        new BoundedChannelOptions(1024) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });

    public ValueTask EnqueueAsync(WorkItem item, CancellationToken ct) => Channel.Writer.WriteAsync(item, ct);
}

public sealed class ChannelWorker(ChannelWorkQueue queue) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await foreach (var item in queue.Channel.Reader.ReadAllAsync(stoppingToken))
        {
            try { item.Done.TrySetResult(Work.Compute(item.Input)); }
            catch (Exception ex) { item.Done.TrySetException(ex); }
        }
    }
}

// flowscope: FlowScope's own traced queue
public sealed class FlowScopeWorkQueue(IQueue<WorkItem> queue) : IWorkQueue
{
    public ValueTask EnqueueAsync(WorkItem item, CancellationToken ct) => queue.EnqueueAsync(item, ct);
}

public sealed class WorkItemHandler : IQueueHandler<WorkItem>
{
    public Task HandleAsync(WorkItem message, QueueMessageContext context, CancellationToken cancellationToken)
    {
        message.Done.TrySetResult(Work.Compute(message.Input));
        return Task.CompletedTask;
    }
}

public sealed class CountingExporter : BaseExporter<Activity>
{
    private long _count;
    public long Count => Interlocked.Read(ref _count);

    public override ExportResult Export(in Batch<Activity> batch)
    {
        long n = 0;
        foreach (var _ in batch) n++;
        Interlocked.Add(ref _count, n);
        return ExportResult.Success;
    }
}
