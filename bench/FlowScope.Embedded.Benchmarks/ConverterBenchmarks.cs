using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using FlowScope.Embedded.Capture;
using FlowScope.Embedded.Storage;

namespace FlowScope.Embedded.Benchmarks;

/// <summary>
/// <see cref="SpanConverter.Convert(Activity, SpanBatch)"/>, the pump's per-activity work off the request path: one
/// activity encoded into the batch the store and the observers read. Allocated bytes are transient (the batch's
/// buffer is reused); what the store keeps is measured by <c>-- memory</c>.
/// </summary>
[MemoryDiagnoser]
public class ConverterBenchmarks : IDisposable
{
    private readonly SpanBatch _output = new();
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

    /// <summary>A server span with eight HTTP semantic-convention tags (one int-valued).</summary>
    [Benchmark(Baseline = true)]
    public int ServerSpan8Tags() => Convert(_server8Tags);

    /// <summary>ASP.NET Core's request activity with FlowScope's HttpRequestInfo, no stages: 5 attributes.</summary>
    [Benchmark]
    public int AspNetCoreRequest() => Convert(_request);

    /// <summary>The same request with four nested pipeline stages.</summary>
    [Benchmark]
    public int AspNetCoreRequest4Stages() => Convert(_requestWith4Stages);

    /// <summary>A request through 12 stages (as the overhead app's JSON request).</summary>
    [Benchmark]
    public int AspNetCoreRequest12Stages() => Convert(_requestWith12Stages);

    /// <summary>
    /// As <see cref="AspNetCoreRequest12Stages"/>, cycling through 256 requests with their own random ids, as the pump
    /// sees them: converting one activity over and over lets the processor learn its id's digits, which hides what
    /// decoding a new id costs.
    /// </summary>
    [Benchmark]
    public int AspNetCoreRequest12StagesNewIds() => Convert(_manyRequestsWith12Stages[_next++ & 255]);

    private int Convert(Activity activity)
    {
        _output.Clear();
        return _converter.Convert(activity, _output);
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _factory?.Dispose();
        _factory = null;
        GC.SuppressFinalize(this);
    }
}
