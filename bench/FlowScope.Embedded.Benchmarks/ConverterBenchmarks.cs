using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using FlowScope.Embedded.Capture;
using FlowScope.Embedded.Storage;

namespace FlowScope.Embedded.Benchmarks;

/// <summary>
/// <see cref="SpanConverter.Convert"/>, the pump's per-span work off the request path. Allocated bytes here are
/// what one converted span costs before the store keeps it (the retained size is measured by <c>-- memory</c>).
/// </summary>
[MemoryDiagnoser]
public class ConverterBenchmarks : IDisposable
{
    private ActivityFactory? _factory;
    private SpanConverter _converter = null!;
    private Activity _server8Tags = null!;
    private Activity _aspNetCoreRequest = null!;
    private Activity _middleware = null!;

    [GlobalSetup]
    public void Setup()
    {
        _factory = new ActivityFactory();
        _converter = Fixtures.NewConverter();
        _server8Tags = _factory.NewServerSpan8Tags();
        var trace = _factory.NewRequestTrace(middlewareSpans: 1);
        _middleware = trace[0];
        _aspNetCoreRequest = trace[1];
    }

    /// <summary>A server span with eight HTTP semantic-convention tags (one int-valued).</summary>
    [Benchmark(Baseline = true)]
    public SpanRecord ServerSpan8Tags() => _converter.Convert(_server8Tags);

    /// <summary>ASP.NET Core's request activity with FlowScope's HttpRequestInfo (five attributes, name from the route).</summary>
    [Benchmark]
    public SpanRecord AspNetCoreRequestSpan() => _converter.Convert(_aspNetCoreRequest);

    /// <summary>A middleware stage span: two tags plus the component tag.</summary>
    [Benchmark]
    public SpanRecord MiddlewareSpan() => _converter.Convert(_middleware);

    [GlobalCleanup]
    public void Dispose()
    {
        _factory?.Dispose();
        _factory = null;
        GC.SuppressFinalize(this);
    }
}
