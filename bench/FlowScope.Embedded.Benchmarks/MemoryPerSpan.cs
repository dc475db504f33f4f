using System.Diagnostics;
using System.Globalization;
using System.Runtime;
using FlowScope.Embedded.Capture;
using FlowScope.Embedded.Storage;

namespace FlowScope.Embedded.Benchmarks;

/// <summary>
/// <c>-- memory</c>: what the in-memory store holds at its default cap, per trace shape. Real activities are created,
/// converted as the pump converts them and added in pump-sized batches until the store has evicted a full cap's worth
/// (steady state). Reports the bytes the store accounts for per stored span and per trace, the managed heap it
/// retains (measured with full, compacting collections before and after: it must match the store's own figure, since
/// nothing per trace or span is an object), and how long the dashboard's queries take on the full store.
/// </summary>
internal static class MemoryPerSpan
{
    private const int BatchActivities = 1_024;

    public static int Run()
    {
        var capacity = FlowScopeOptions.DefaultMaxStoreMegabytes * 1024L * 1024;
        Console.WriteLine($"The in-memory store at its default cap ({FlowScopeOptions.DefaultMaxStoreMegabytes} MB), steady state");
        Console.WriteLine($"Runtime {Environment.Version}, {(GCSettings.IsServerGC ? "server" : "workstation")} GC, 64-bit={Environment.Is64BitProcess}");
        Console.WriteLine();
        Console.WriteLine("| Trace shape | Traces held | Spans held | Store bytes/span | Store bytes/trace | Heap retained | List 50 | Filter by name | Text, no match | Text, match |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");

        using var factory = new ActivityFactory();
        Measure("request with 12 pipeline stages (the overhead app's JSON request)", capacity, factory, (f, t) => [f.NewRequest(12, PathOf(t))]);
        Measure("request with 4 pipeline stages", capacity, factory, (f, t) => [f.NewRequest(4, PathOf(t))]);
        Measure("5 spans with 8 HTTP tags each", capacity, factory, (f, t) => f.NewTrace8Tags(5, PathOf(t)));
        return 0;
    }

    private static string PathOf(int trace) => string.Create(CultureInfo.InvariantCulture, $"/rooms/{trace % 1000}/messages");

    private static void Measure(string shape, long capacity, ActivityFactory factory, Func<ActivityFactory, int, List<Activity>> newTrace)
    {
        var converter = Fixtures.NewConverter();
        var options = Fixtures.DefaultOptions();
        var before = Heap();
        var store = new InMemoryTraceStore(capacity, options.MaxSpansPerTrace);
        var batch = new SpanBatch();
        var trace = 0;

        // Fill until a cap's worth of traces has been evicted: every segment has been recycled at least once.
        long firstFill = -1;
        while (firstFill < 0 || store.GetStats().EvictedTraces < firstFill)
        {
            foreach (var activity in newTrace(factory, trace++))
            {
                converter.Convert(activity, batch);
            }

            if (batch.Count >= BatchActivities)
            {
                store.AddAsync(batch).AsTask().GetAwaiter().GetResult();
                batch.Clear();
                if (firstFill < 0 && store.GetStats().EvictedTraces > 0)
                {
                    firstFill = store.GetStats().StoredTraces;
                }
            }
        }

        var retained = Heap() - before;
        var stats = store.GetStats();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {shape} | {stats.StoredTraces:N0} | {stats.StoredSpans:N0} | {(double)stats.MemoryBytes / stats.StoredSpans:N0} | {(double)stats.MemoryBytes / stats.StoredTraces:N0} | {retained / (1024.0 * 1024):N1} MB | {Time(store, new TraceQuery { Limit = 50 })} | {Time(store, new TraceQuery { Name = "rooms/7", Limit = 50 })} | {Time(store, new TraceQuery { Text = "no-such-text-anywhere", Limit = 50 })} | {Time(store, new TraceQuery { Text = "/rooms/999/", Limit = 50 })} |"));
        GC.KeepAlive(store);
    }

    /// <summary>The median of nine runs of a query, in milliseconds.</summary>
    private static string Time(InMemoryTraceStore store, TraceQuery query)
    {
        var times = new double[9];
        for (var i = 0; i < times.Length; i++)
        {
            var started = Stopwatch.GetTimestamp();
            store.QueryAsync(query).AsTask().GetAwaiter().GetResult();
            times[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        }

        Array.Sort(times);
        return string.Create(CultureInfo.InvariantCulture, $"{times[times.Length / 2]:0.0} ms");
    }

    private static long Heap()
    {
        for (var i = 0; i < 3; i++)
        {
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
        }

        return GC.GetTotalMemory(forceFullCollection: true);
    }
}
