using BenchmarkDotNet.Attributes;
using FlowScope.Embedded.Storage;

namespace FlowScope.Embedded.Benchmarks;

/// <summary>
/// The in-memory store at the default memory cap, full of five-span traces and evicting: inserting one pump batch
/// (1 024 spans of new five-span traces), the dashboard's queries, one trace's detail and the live stream's change
/// feed.
/// </summary>
[MemoryDiagnoser]
public class StoreBenchmarks
{
    private const int SpansPerTrace = 5;
    private const int BatchSize = 1_024;

    // 80 batches hold 16 384 traces: a batch comes round again only after its traces were evicted.
    private const int BatchCount = 80;

    private static readonly DateTimeOffset s_start = new(2026, 11, 1, 8, 0, 0, TimeSpan.Zero);

    private InMemoryTraceStore _store = null!;
    private SpanBatch[] _batches = [];
    private int _nextBatch;
    private string _traceId = null!;
    private long _versionBefore100Changes;

    private readonly TraceQuery _latest50 = new() { Limit = 50 };
    private readonly TraceQuery _byName = new() { Name = "orders", Limit = 50 };
    private readonly TraceQuery _freeText = new() { Text = "AuthorizationMiddleware-none", Limit = 50 };
    private readonly TraceQuery _freeTextHit = new() { Text = "/users/7", Limit = 50 };
    private readonly TraceQuery _errors = new() { Status = TraceStatusFilter.Error, Limit = 50 };

    [GlobalSetup]
    public void Setup()
    {
        var options = Fixtures.DefaultOptions();
        _store = new InMemoryTraceStore(options.MaxStoreMegabytes * 1024L * 1024, options.MaxSpansPerTrace);
        var seed = 1;
        var start = s_start;
        while (_store.GetStats().EvictedTraces == 0)
        {
            var records = Fixtures.NewTraceRecords(BatchSize / SpansPerTrace, SpansPerTrace, seed++, start);
            start = start.AddMinutes(1);
            _store.AddAsync(SpanBatch.Encode(records)).AsTask().GetAwaiter().GetResult();
            _traceId = records[0].TraceId;
        }

        var more = Fixtures.NewTraceRecords(BatchCount * BatchSize / SpansPerTrace + 1, SpansPerTrace, seed: 0, start.AddHours(1));
        _batches = new SpanBatch[BatchCount];
        for (var b = 0; b < BatchCount; b++)
        {
            _batches[b] = SpanBatch.Encode(more.GetRange(b * BatchSize, BatchSize));
        }

        _versionBefore100Changes = _store.GetStats().Version - (100 * SpansPerTrace);
    }

    /// <summary>One pump batch of 1 024 spans into a full store: adds about 205 traces and evicts as many.</summary>
    [Benchmark]
    public ValueTask Insert1024Spans()
    {
        var batch = _batches[_nextBatch];
        _nextBatch = (_nextBatch + 1) % BatchCount;
        return _store.AddAsync(batch);
    }

    [Benchmark]
    public ValueTask<TracePage> QueryLatest50() => _store.QueryAsync(_latest50);

    [Benchmark]
    public ValueTask<TracePage> QueryByName() => _store.QueryAsync(_byName);

    /// <summary>Free text that matches nothing: every span of the full store is searched.</summary>
    [Benchmark]
    public ValueTask<TracePage> QueryFreeTextMiss() => _store.QueryAsync(_freeText);

    /// <summary>Free text that matches a few traces' url.path.</summary>
    [Benchmark]
    public ValueTask<TracePage> QueryFreeTextHit() => _store.QueryAsync(_freeTextHit);

    [Benchmark]
    public ValueTask<TracePage> QueryErrors() => _store.QueryAsync(_errors);

    [Benchmark]
    public ValueTask<TraceDetail?> GetTrace() => _store.GetTraceAsync(_traceId);

    /// <summary>The live stream's read after 100 traces changed.</summary>
    [Benchmark]
    public ValueTask<TraceChanges> GetChanges100() => _store.GetChangesAsync(_versionBefore100Changes, 500);
}
