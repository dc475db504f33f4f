using BenchmarkDotNet.Attributes;
using FlowScope.Embedded.Overhead;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FlowScope.Embedded.Benchmarks;

/// <summary>
/// The end-to-end harness's app (its JSON controller behind five middleware, and its minimal endpoint) run in process,
/// without sockets, in each configuration: no instrumentation, the bare request activity, the OpenTelemetry SDK,
/// FlowScope. The time is the request thread's, garbage collections included; FlowScope's pump and OpenTelemetry's
/// export thread run on the machine's other core (the end-to-end harness, which pins the app to one core, counts
/// them too). Allocations are the request thread's. Environment variables reach the app's configuration, so a
/// FlowScope option can be switched for a run (for example <c>FlowScope__CaptureMiddleware=false</c>).
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification = "The host owns the server and disposes it; GlobalCleanup disposes the host.")]
public class RequestPathBenchmarks
{
    private WebApplication? _app;
    private InProcessServer? _server;

    /// <summary>The configurations measured: all four, or those listed in <c>BENCH_MODES</c> (comma-separated).</summary>
    public static IEnumerable<string> Modes =>
        Environment.GetEnvironmentVariable("BENCH_MODES") is { Length: > 0 } modes ? modes.Split(',') : OverheadApp.Modes;

    [ParamsSource(nameof(Modes))]
    public string Mode { get; set; } = "baseline";

    [GlobalSetup]
    public void Setup()
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        _server = new InProcessServer();
        builder.Services.AddSingleton<IServer>(_server);
        OverheadApp.ConfigureServices(builder.Services, Mode);
        _app = builder.Build();
        OverheadApp.MapPipeline(_app, Mode);
        _app.StartAsync().GetAwaiter().GetResult();
        if (_server.SendAsync("/api/forecast").GetAwaiter().GetResult() != 200)
        {
            throw new InvalidOperationException("The JSON controller did not answer 200.");
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _app?.StopAsync().GetAwaiter().GetResult();
        (_app as IDisposable)?.Dispose();
    }

    /// <summary>Sends requests for <paramref name="path"/> for <paramref name="seconds"/> seconds on one thread, for a profiler; prints the rate.</summary>
    public static async Task<int> LoopAsync(string mode, string path, int seconds)
    {
        var benchmarks = new RequestPathBenchmarks { Mode = mode };
        benchmarks.Setup();
        var pause0 = GC.GetTotalPauseDuration();
        int g0 = GC.CollectionCount(0), g1 = GC.CollectionCount(1), g2 = GC.CollectionCount(2);
        var allocated0 = GC.GetTotalAllocatedBytes(precise: false);
        var contention0 = Monitor.LockContentionCount;
        var until = System.Diagnostics.Stopwatch.GetTimestamp() + (seconds * System.Diagnostics.Stopwatch.Frequency);
        long count = 0;
        while (System.Diagnostics.Stopwatch.GetTimestamp() < until)
        {
            for (var i = 0; i < 1_000; i++)
            {
                await benchmarks._server!.SendAsync(path).ConfigureAwait(false);
            }

            count += 1_000;
        }

        var pause = (GC.GetTotalPauseDuration() - pause0).TotalMicroseconds / count;
        var allocated = (GC.GetTotalAllocatedBytes(precise: false) - allocated0) / count;
        Console.WriteLine(System.FormattableString.Invariant(
            $"{mode} {path}: {count / (double)seconds:F0} requests/s, {allocated} B allocated per request (all threads), GC pause {pause:F2} µs per request, collections {GC.CollectionCount(0) - g0}/{GC.CollectionCount(1) - g1}/{GC.CollectionCount(2) - g2} (gen0/1/2), {Monitor.LockContentionCount - contention0} lock contentions"));
        benchmarks.Cleanup();
        return 0;
    }

    [Benchmark(Description = "JSON controller")]
    public Task<int> Json() => _server!.SendAsync("/api/forecast");

    [Benchmark(Description = "minimal endpoint")]
    public Task<int> Minimal() => _server!.SendAsync("/minimal");
}
