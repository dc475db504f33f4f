using System.Diagnostics;
using System.Globalization;
using System.Runtime;
using FlowScope.Embedded.Capture;
using FlowScope.Embedded.Storage;

namespace FlowScope.Embedded.Benchmarks;

/// <summary>
/// <c>-- memory</c>: retained managed bytes per stored span at the default caps. Real activities are created,
/// converted by <see cref="SpanConverter"/> as the pump does (a request's stages kept compactly with its record) and
/// added to an <see cref="InMemoryTraceStore"/> in pump-sized batches (for comparison also with one record per
/// stage, as before the compact stages);
/// the heap is measured with a full, compacting <see cref="GC.GetTotalMemory(bool)"/> before and after. The
/// activities, HTTP contexts and batch lists become garbage, so what remains is what the store keeps: records,
/// their strings and lists, and the store's own index.
/// </summary>
internal static class MemoryPerSpan
{
    private const int Traces = FlowScopeOptions.DefaultMaxTraces;
    private static int s_spansPerTrace = 5;

    public static int Run()
    {
        Console.WriteLine($"Retained memory per stored span, {Traces:N0} traces, default caps");
        Console.WriteLine($"Runtime {Environment.Version}, {(GCSettings.IsServerGC ? "server" : "workstation")} GC, 64-bit={Environment.Is64BitProcess}");
        Console.WriteLine();
        Console.WriteLine("| Trace shape | Held by | Retained bytes | Bytes/span | Bytes/trace |");
        Console.WriteLine("|---|---|---:|---:|---:|");

        using var factory = new ActivityFactory();
        s_spansPerTrace = 5;
        Measure("ASP.NET Core request (5 attributes) with 4 pipeline stages (2 attributes each)", factory, (f, t) => [f.NewRequest(s_spansPerTrace - 1, PathOf(t))]);
        s_spansPerTrace = 13;
        Measure("ASP.NET Core request with 12 pipeline stages (as the overhead app's JSON request)", factory, (f, t) => [f.NewRequest(s_spansPerTrace - 1, PathOf(t))]);
        s_spansPerTrace = 5;
        Measure("5 spans with 8 HTTP tags each", factory, (f, t) => f.NewTrace8Tags(s_spansPerTrace, PathOf(t)));
        return 0;
    }

    private static string PathOf(int trace) => string.Create(CultureInfo.InvariantCulture, $"/rooms/{trace % 1000}/messages");

    private static void Measure(string shape, ActivityFactory factory, Func<ActivityFactory, int, List<Activity>> newTrace)
    {
        // Records alone (a plain list), then the same through a full store, then the store after another full
        // round of traces (steady state: every trace of the first round evicted).
        {
            var converter = Fixtures.NewConverter();
            var before = Heap();
            var kept = new List<SpanRecord>(Traces * s_spansPerTrace);
            Fill(factory, newTrace, converter, batch => kept.AddRange(batch), 0, compact: false);
            var after = Heap();
            Report(shape, "List<SpanRecord> (records only)", after - before, kept.Count);
            GC.KeepAlive(kept);
        }

        {
            var options = Fixtures.DefaultOptions();
            var converter = Fixtures.NewConverter();
            var before = Heap();
            var store = new InMemoryTraceStore(options.MaxTraces, options.MaxSpansPerTrace);
            Fill(factory, newTrace, converter, batch => store.AddAsync(batch).AsTask().GetAwaiter().GetResult(), 0, compact: false);
            var full = Heap();
            Report(shape, "InMemoryTraceStore, one record per stage (before compact stages)", full - before, store.GetStats().StoredSpans);
            GC.KeepAlive(store);
        }

        {
            var options = Fixtures.DefaultOptions();
            var converter = Fixtures.NewConverter();
            var before = Heap();
            var store = new InMemoryTraceStore(options.MaxTraces, options.MaxSpansPerTrace);
            Fill(factory, newTrace, converter, batch => store.AddAsync(batch).AsTask().GetAwaiter().GetResult(), 0);
            var full = Heap();
            var stats = store.GetStats();
            Report(shape, "InMemoryTraceStore, first fill (as the pump stores)", full - before, stats.StoredSpans);

            // Summaries are cached per trace once the dashboard asked; count them too.
            store.QueryAsync(new TraceQuery { Limit = TraceQuery.MaxLimit }).AsTask().GetAwaiter().GetResult();
            var withSummaries = Heap();
            Report(shape, "  + cached summaries (after a query)", withSummaries - before, stats.StoredSpans);

            Fill(factory, newTrace, converter, batch => store.AddAsync(batch).AsTask().GetAwaiter().GetResult(), Traces);
            var steady = Heap();
            stats = store.GetStats();
            Report(shape, $"InMemoryTraceStore, steady state ({stats.EvictedTraces:N0} evicted)", steady - before, stats.StoredSpans);
            GC.KeepAlive(store);
        }
    }

    private static void Fill(ActivityFactory factory, Func<ActivityFactory, int, List<Activity>> newTrace, SpanConverter converter, Action<List<SpanRecord>> add, int firstTrace, bool compact = true)
    {
        var batch = new List<SpanRecord>(1_024);
        for (var t = firstTrace; t < firstTrace + Traces; t++)
        {
            foreach (var activity in newTrace(factory, t))
            {
                converter.Convert(activity, batch, compact);
            }

            if (batch.Count >= 1_020)
            {
                add(batch);
                batch = new List<SpanRecord>(1_024);
            }
        }

        add(batch);
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

    private static void Report(string shape, string heldBy, long bytes, long spans) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {shape} | {heldBy} | {bytes:N0} | {(double)bytes / spans:N0} | {(double)bytes * s_spansPerTrace / spans:N0} |"));
}
