using System.Diagnostics;
using System.Runtime.CompilerServices;
using BenchmarkDotNet.Attributes;
using FlowScope.Embedded.Buffering;
using FlowScope.Embedded.Capture;
using Microsoft.AspNetCore.Http;

namespace FlowScope.Embedded.Benchmarks;

/// <summary>
/// What FlowScope does on the request path, in isolation, with pre-created stopped activities:
/// <see cref="ActivityCapture.OnStopped"/> (custom-property look-up, <see cref="HttpRequestInfo.Complete"/> for
/// request spans, <see cref="SpanBuffer.TryWrite"/>) and the request middleware's <see cref="HttpRequestInfo.Attach"/>.
/// The buffer is drained after each iteration (fixed invocation count, capacity twice that), so no write takes
/// the drop path. Request-span cases re-arm the same hot objects between invocations (see the accessors below)
/// instead of walking a large array of cold ones, as a real request stops the activity it has just touched.
/// </summary>
[MemoryDiagnoser]
[InvocationCount(Invocations)]
[WarmupCount(15)]
[IterationCount(15)]
public class CaptureBenchmarks : IDisposable
{
    private const int Invocations = 1 << 20;

    private readonly List<Activity> _drained = new(Invocations);
    private SpanBuffer _buffer = null!;
    private ActivityCapture? _capture;
    private Activity _internalSpan = null!;
    private Activity _requestSpan = null!;
    private HttpRequestInfo _requestInfo = null!;
    private DefaultHttpContext _context = null!;

    // Re-arming: Complete() forgets the HttpContext after reading it once; Attach() creates the activity's
    // property dictionary only the first time. Resetting these two fields makes every invocation a first one.
    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_context")]
    private static extern ref HttpContext? ContextOf(HttpRequestInfo info);

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_customProperties")]
    private static extern ref Dictionary<string, object>? CustomPropertiesOf(Activity activity);

    [GlobalSetup]
    public void GlobalSetup()
    {
        _buffer = new SpanBuffer(Invocations * 2);
        _capture = new ActivityCapture(_buffer, new ActivitySourceFilter([]));
        _context = Fixtures.NewHttpContext();
        _internalSpan = Fixtures.NewStoppedActivity("internal-step");
        _requestSpan = Fixtures.NewStoppedActivity(FlowScopeSources.HostingOperationName);
        _requestInfo = HttpRequestInfo.Attach(_requestSpan, _context);
    }

    [IterationCleanup]
    public void Drain()
    {
        while (_buffer.Drain(_drained, Invocations) > 0)
        {
            _drained.Clear();
        }

        if (_buffer.Dropped != 0)
        {
            throw new InvalidOperationException("The benchmark buffer dropped spans; the measurement would be wrong.");
        }
    }

    /// <summary>The bounded channel's write alone.</summary>
    [Benchmark]
    public bool TryWrite() => _buffer.TryWrite(_internalSpan);

    /// <summary>A span without request info (middleware, worker, user source): property look-up + write.</summary>
    [Benchmark(Baseline = true)]
    public void OnStoppedInternalSpan() => _capture!.OnStopped(_internalSpan);

    /// <summary>An ASP.NET Core request span: property look-up + Complete (status code, endpoint route) + write.</summary>
    [Benchmark]
    public void OnStoppedRequestSpan()
    {
        ContextOf(_requestInfo) = _context;
        _capture!.OnStopped(_requestSpan);
    }

    /// <summary>
    /// The request middleware's per-request work before the activity stops: a new HttpRequestInfo (method, path,
    /// scheme) set as the activity's first custom property, which makes the activity create its property dictionary.
    /// </summary>
    [Benchmark]
    public object MiddlewareAttach()
    {
        CustomPropertiesOf(_requestSpan) = null;
        return HttpRequestInfo.Attach(_requestSpan, _context);
    }

    /// <summary>Everything FlowScope adds to one request span on the request thread: Attach, then OnStopped.</summary>
    [Benchmark]
    public void RequestSpanTotal()
    {
        CustomPropertiesOf(_requestSpan) = null;
        HttpRequestInfo.Attach(_requestSpan, _context);
        _capture!.OnStopped(_requestSpan);
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _capture?.Dispose();
        _capture = null;
        GC.SuppressFinalize(this);
    }
}
