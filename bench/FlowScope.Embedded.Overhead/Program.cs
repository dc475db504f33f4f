using System.Diagnostics;
using System.Security.Claims;
using System.Text.Encodings.Web;
using System.Threading.Channels;
using FlowScope.Embedded.Overhead;
using FlowScope.Embedded.Queues;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Trace;

// Usage: FlowScope.Embedded.Overhead --mode baseline|flowscope|otel|activity --port <n>
// (activity: diagnosis only -- an ActivityListener that asks ASP.NET Core for its request activity and does nothing
// with it: the floor every Activity-based tracer starts from.)
var mode = "baseline";
var port = 5080;
for (var i = 0; i < args.Length - 1; i++)
{
    if (args[i] == "--mode") mode = args[i + 1];
    if (args[i] == "--port") port = int.Parse(args[i + 1], System.Globalization.CultureInfo.InvariantCulture);
}
if (mode is not ("baseline" or "flowscope" or "otel" or "activity"))
{
    Console.Error.WriteLine($"unknown --mode '{mode}' (baseline|flowscope|otel|activity)");
    return 2;
}

var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = [] });
builder.Logging.ClearProviders(); // console logging would dominate the measurement
builder.WebHost.ConfigureKestrel(k => k.Listen(System.Net.IPAddress.Loopback, port));
builder.Services.AddControllers();
builder.Services.AddAuthentication("noop").AddScheme<AuthenticationSchemeOptions, NoopAuthHandler>("noop", null);

switch (mode)
{
    case "flowscope":
        builder.Services.AddFlowScope().AddQueue<WorkItem, WorkItemHandler>("work");
        builder.Services.AddSingleton<IWorkQueue, FlowScopeWorkQueue>();
        if (Environment.GetEnvironmentVariable("BENCH_NO_MVC_FILTER") == "1")
        {
            // Diagnosis only (bench/overhead-diag.sh): FlowScope without its MVC filter, to price the filter alone.
            builder.Services.PostConfigure<MvcOptions>(o =>
            {
                foreach (var f in o.Filters.Where(f => f.GetType().Name == "MvcStageFilter").ToList()) o.Filters.Remove(f);
            });
        }
        break;
    case "otel":
        builder.Services.AddSingleton<CountingExporter>();
        builder.Services.AddOpenTelemetry().WithTracing(t => t
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
        builder.Services.AddSingleton<ChannelWorkQueue>();
        builder.Services.AddSingleton<IWorkQueue>(sp => sp.GetRequiredService<ChannelWorkQueue>());
        builder.Services.AddHostedService<ChannelWorker>();
        break;
}

var app = builder.Build();

// Outside the measured pipeline: allocation counter read by bench/overhead.sh before and after each window.
app.Use(async (ctx, next) =>
{
    if (ctx.Request.Path.StartsWithSegments("/__bench"))
    {
        if (ctx.Request.Path == "/__bench/alloc")
        {
            ctx.Response.ContentType = "text/plain";
            await ctx.Response.WriteAsync(GC.GetTotalAllocatedBytes(precise: true).ToString(System.Globalization.CultureInfo.InvariantCulture));
            return;
        }
        if (ctx.Request.Path == "/__bench/jit")
        {
            // Methods compiled so far (all tiers): the harness warms up until this stops rising.
            ctx.Response.ContentType = "text/plain";
            await ctx.Response.WriteAsync(System.Runtime.JitInfo.GetCompiledMethodCount().ToString(System.Globalization.CultureInfo.InvariantCulture));
            return;
        }
        if (ctx.Request.Path == "/__bench/gc")
        {
            // GC mode, and pause time and collection counts so far: the harness reports them per window.
            ctx.Response.ContentType = "text/plain";
            var inv = System.Globalization.CultureInfo.InvariantCulture;
            await ctx.Response.WriteAsync(string.Join(' ',
                System.Runtime.GCSettings.IsServerGC ? "server" : "workstation",
                System.Runtime.GCSettings.LatencyMode.ToString(),
                GC.GetTotalPauseDuration().TotalMilliseconds.ToString("0.###", inv),
                GC.CollectionCount(0).ToString(inv),
                GC.CollectionCount(1).ToString(inv),
                GC.CollectionCount(2).ToString(inv)));
            return;
        }
        if (ctx.Request.Path == "/__bench/alloc-types")
        {
            // Diagnosis: allocation sampling (the runtime's AllocationTick, about one event per 100 KB) by type for
            // the given number of seconds while load runs; the top types with their share of sampled bytes.
            var seconds = int.TryParse(ctx.Request.Query["seconds"], out var s) ? Math.Clamp(s, 1, 30) : 5;
            using var sampler = new AllocationSampler();
            await Task.Delay(TimeSpan.FromSeconds(seconds));
            ctx.Response.ContentType = "text/plain";
            await ctx.Response.WriteAsync(sampler.Report());
            return;
        }
        if (ctx.Request.Path == "/__bench/exported")
        {
            var exporter = ctx.RequestServices.GetService<CountingExporter>();
            await ctx.Response.WriteAsync((exporter?.Count ?? -1).ToString(System.Globalization.CultureInfo.InvariantCulture));
            return;
        }
    }
    await next(ctx);
});

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
app.MapGet("/queue", async (IWorkQueue queue, CancellationToken ct) =>
{
    var item = new WorkItem(Random.Shared.Next(1, 1000));
    await queue.EnqueueAsync(item, ct);
    var result = await item.Done.Task.WaitAsync(ct);
    return Results.Json(new QueueResult(item.Input, result));
});

app.Run();
return 0;

namespace FlowScope.Embedded.Overhead
{
    public sealed record WeatherForecast(DateOnly Date, int TemperatureC, string Summary)
    {
        public int TemperatureF => 32 + (int)(TemperatureC / 0.5556);
    }

    public sealed record QueueResult(int Input, int Output);

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

    public sealed class AllocationSampler : System.Diagnostics.Tracing.EventListener
    {
        private readonly Dictionary<string, long> _bytes = new();
        private long _total;

        protected override void OnEventSourceCreated(System.Diagnostics.Tracing.EventSource source)
        {
            if (source.Name == "Microsoft-Windows-DotNETRuntime")
            {
                EnableEvents(source, System.Diagnostics.Tracing.EventLevel.Verbose, (System.Diagnostics.Tracing.EventKeywords)0x1);
            }
        }

        protected override void OnEventWritten(System.Diagnostics.Tracing.EventWrittenEventArgs e)
        {
            if (e.EventName is not { } name || !name.StartsWith("GCAllocationTick", StringComparison.Ordinal) || e.Payload is null) return;
            var type = e.PayloadNames!.IndexOf("TypeName") is var t and >= 0 ? e.Payload[t] as string ?? "?" : "?";
            var amount = e.PayloadNames.IndexOf("AllocationAmount64") is var a and >= 0 ? Convert.ToInt64(e.Payload[a], System.Globalization.CultureInfo.InvariantCulture) : 100_000;
            lock (_bytes)
            {
                _bytes[type] = _bytes.GetValueOrDefault(type) + amount;
                _total += amount;
            }
        }

        public string Report()
        {
            lock (_bytes)
            {
                return string.Join('\n', _bytes.OrderByDescending(p => p.Value).Take(40)
                    .Select(p => $"{100.0 * p.Value / Math.Max(1, _total),6:F2}%  {p.Key}")) + "\n";
            }
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
}
