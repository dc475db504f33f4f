using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using FlowScope.Embedded.Capture;
using FlowScope.Embedded.Storage;

namespace FlowScope.Embedded.Benchmarks;

/// <summary>
/// <see cref="SpanConverter.Convert(Activity, List{SpanRecord}, bool)"/>, the pump's per-activity work off the request
/// path. Allocated bytes here are what the converted records cost before the store keeps them (the retained size is
/// measured by <c>-- memory</c>). "Compact" cases are what the pump does for the in-memory store: one record per
/// request with its stages kept compactly; the others build one record per stage (what other stores get).
/// </summary>
[MemoryDiagnoser]
public class ConverterBenchmarks : IDisposable
{
    private readonly List<SpanRecord> _output = new(16);
    private ActivityFactory? _factory;
    private SpanConverter _converter = null!;
    private Activity _server8Tags = null!;
    private Activity _request = null!;
    private Activity _requestWith4Stages = null!;
    private Activity _requestWith12Stages = null!;
    private Activity[] _manyRequestsWith12Stages = null!;
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        _factory = new ActivityFactory();
        _converter = Fixtures.NewConverter();
        _server8Tags = _factory.NewServerSpan8Tags();
        _request = _factory.NewRequest(stages: 0);
        _requestWith4Stages = _factory.NewRequest(stages: 4);
        _requestWith12Stages = _factory.NewRequest(stages: 12);
        _manyRequestsWith12Stages = new Activity[256];
        for (var i = 0; i < _manyRequestsWith12Stages.Length; i++)
        {
            _manyRequestsWith12Stages[i] = _factory.NewRequest(stages: 12);
        }
    }

    /// <summary>A server span with eight HTTP semantic-convention tags (one int-valued): one record.</summary>
    [Benchmark(Baseline = true)]
    public int ServerSpan8Tags() => Convert(_server8Tags);

    /// <summary>ASP.NET Core's request activity with FlowScope's HttpRequestInfo, no stages: one record, 5 attributes.</summary>
    [Benchmark]
    public int AspNetCoreRequest() => Convert(_request);

    /// <summary>The same request with four nested pipeline stages: five records (per request, not per span).</summary>
    [Benchmark]
    public int AspNetCoreRequest4Stages() => Convert(_requestWith4Stages);

    /// <summary>The same request as the pump converts it for the in-memory store: one record, stages compact.</summary>
    [Benchmark]
    public int AspNetCoreRequest4StagesCompact() => Convert(_requestWith4Stages, compact: true);

    /// <summary>A request through 12 stages (as the overhead app's JSON request): 13 records.</summary>
    [Benchmark]
    public int AspNetCoreRequest12Stages() => Convert(_requestWith12Stages);

    /// <summary>The 12-stage request as the pump converts it for the in-memory store.</summary>
    [Benchmark]
    public int AspNetCoreRequest12StagesCompact() => Convert(_requestWith12Stages, compact: true);

    /// <summary>
    /// As <see cref="AspNetCoreRequest12StagesCompact"/>, cycling through 256 requests with their own random ids, as
    /// the pump sees them: converting one activity over and over lets the processor learn its id's digits, which
    /// hides what decoding a new id costs.
    /// </summary>
    [Benchmark]
    public int AspNetCoreRequest12StagesCompactNewIds() => Convert(_manyRequestsWith12Stages[_next++ & 255], compact: true);

    private int Convert(Activity activity, bool compact = false)
    {
        _output.Clear();
        _converter.Convert(activity, _output, compact);
        return _output.Count;
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _factory?.Dispose();
        _factory = null;
        GC.SuppressFinalize(this);
    }
}
