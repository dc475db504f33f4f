using FlowScope.Embedded.Overhead;

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
if (!OverheadApp.Modes.Contains(mode))
{
    Console.Error.WriteLine($"unknown --mode '{mode}' (baseline|flowscope|otel|activity)");
    return 2;
}

var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = [] });
builder.Logging.ClearProviders(); // console logging would dominate the measurement
builder.WebHost.ConfigureKestrel(k => k.Listen(System.Net.IPAddress.Loopback, port));

OverheadApp.ConfigureServices(builder.Services, mode);


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
        if (ctx.Request.Path == "/__bench/mixed")
        {
            // The numbers of the /mixed requests that failed and that were slow: "errors n n …\nslow n n …".
            ctx.Response.ContentType = "text/plain";
            await ctx.Response.WriteAsync("errors " + string.Join(' ', MixedCounts.Errors) + "\nslow " + string.Join(' ', MixedCounts.Slow) + "\n");
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

OverheadApp.MapPipeline(app, mode);

app.Run();
return 0;

namespace FlowScope.Embedded.Overhead
{
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
}
