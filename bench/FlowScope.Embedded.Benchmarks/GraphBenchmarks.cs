using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using FlowScope.Embedded.Capture;
using FlowScope.Embedded.Metrics;
using FlowScope.Embedded.Storage;

namespace FlowScope.Embedded.Benchmarks;

/// <summary>
/// The pump's per-request work after conversion, for a request through 12 pipeline stages: the component graph
/// (<see cref="ComponentGraph.Observe"/>) and the in-memory store's insert, with the stages compact (what the pump
/// does) and as 13 separate records (what it did before). Invocations cycle through 4 096 pre-converted requests; the
/// store holds 1 024 traces (fewer than the cycle, so every insert is a new trace and evicts the oldest one).
/// </summary>
[MemoryDiagnoser]
public class GraphBenchmarks : IDisposable
{
    private const int Requests = 4_096;
    private const int StoredTraces = 1_024;
    private ActivityFactory? _factory;
    private List<SpanRecord>[] _compact = null!;
    private List<SpanRecord>[] _expanded = null!;
    private ComponentGraph _graph = null!;
    private InMemoryTraceStore _store = null!;
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        _factory = new ActivityFactory();
        var converter = Fixtures.NewConverter();
        _compact = new List<SpanRecord>[Requests];
        _expanded = new List<SpanRecord>[Requests];
        for (var i = 0; i < Requests; i++)
        {
            var activity = _factory.NewRequest(stages: 12, path: "/rooms/" + i + "/messages");
            _compact[i] = [];
            converter.Convert(activity, _compact[i], compactStages: true);
            _expanded[i] = [];
            converter.Convert(activity, _expanded[i]);
        }

        _graph = new ComponentGraph();
        _store = new InMemoryTraceStore(StoredTraces, FlowScopeOptions.DefaultMaxSpansPerTrace);
        for (var i = 0; i < StoredTraces; i++)
        {
            // Fill with other traces: the measured inserts are new traces that evict old ones.
            var activity = _factory.NewRequest(stages: 0);
            _store.AddAsync([new SpanConverter(Fixtures.DefaultOptions(), "bench").Convert(activity)]).AsTask().GetAwaiter().GetResult();
        }
    }

    private List<SpanRecord> Next(List<SpanRecord>[] set) => set[_next++ & (Requests - 1)];

    /// <summary>The component graph observes a request with 12 compact stages.</summary>
    [Benchmark(Baseline = true)]
    public void GraphCompact() => _graph.Observe(Next(_compact));

    /// <summary>The component graph observes the same request as 13 records.</summary>
    [Benchmark]
    public void GraphRecords() => _graph.Observe(Next(_expanded));

    /// <summary>The store adds a request with 12 compact stages.</summary>
    [Benchmark]
    public ValueTask StoreCompact() => _store.AddAsync(Next(_compact));

    /// <summary>The store adds the same request as 13 records.</summary>
    [Benchmark]
    public ValueTask StoreRecords() => _store.AddAsync(Next(_expanded));

    [GlobalCleanup]
    public void Dispose()
    {
        _factory?.Dispose();
        _factory = null;
        GC.SuppressFinalize(this);
    }
}
