using BenchmarkDotNet.Attributes;
using FlowScope.Embedded.Metrics;
using FlowScope.Embedded.Storage;

namespace FlowScope.Embedded.Benchmarks;

/// <summary>
/// The pump's per-request work after conversion, for a request through 12 pipeline stages: the component graph
/// (<see cref="ComponentGraph.Observe"/>) and the in-memory store's insert, each reading the request's payload.
/// Invocations cycle through 4 096 pre-converted requests; the store is filled to its cap first, so every insert
/// is a new trace in a full store (segments recycled as they fill).
/// </summary>
[MemoryDiagnoser]
public class GraphBenchmarks : IDisposable
{
    private const int Requests = 4_096;
    private ActivityFactory? _factory;
    private SpanBatch[] _requests = null!;
    private ComponentGraph _graph = null!;
    private InMemoryTraceStore _store = null!;
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        _factory = new ActivityFactory();
        var converter = Fixtures.NewConverter();
        _requests = new SpanBatch[Requests];
        for (var i = 0; i < Requests; i++)
        {
            var batch = new SpanBatch();
            converter.Convert(_factory.NewRequest(stages: 12, path: "/rooms/" + i + "/messages"), batch);
            _requests[i] = batch;
        }

        _graph = new ComponentGraph();
        _store = new InMemoryTraceStore(InMemoryTraceStore.MinCapacityBytes, FlowScopeOptions.DefaultMaxSpansPerTrace);
        var fill = new SpanBatch();
        while (_store.GetStats().EvictedTraces == 0)
        {
            for (var i = 0; i < 256; i++)
            {
                converter.Convert(_factory.NewRequest(stages: 12), fill);
            }

            _store.AddAsync(fill).AsTask().GetAwaiter().GetResult();
            fill.Clear();
        }
    }

    private SpanBatch Next() => _requests[_next++ & (Requests - 1)];

    /// <summary>The component graph observes a request with 12 stages.</summary>
    [Benchmark(Baseline = true)]
    public void Graph() => _graph.Observe(Next());

    /// <summary>The full store adds a request with 12 stages.</summary>
    [Benchmark]
    public ValueTask Store() => _store.AddAsync(Next());

    [GlobalCleanup]
    public void Dispose()
    {
        _factory?.Dispose();
        _factory = null;
        GC.SuppressFinalize(this);
    }
}
