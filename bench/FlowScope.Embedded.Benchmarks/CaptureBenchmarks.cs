using System.Diagnostics;
using System.Runtime.CompilerServices;
using BenchmarkDotNet.Attributes;
using FlowScope.Embedded.Buffering;
using FlowScope.Embedded.Capture;
using Microsoft.AspNetCore.Http;

namespace FlowScope.Embedded.Benchmarks;

/// <summary>
/// What FlowScope does on the request thread, in isolation, with pre-created stopped activities:
/// <see cref="ActivityCapture.OnStopped"/> (custom-property look-up, <see cref="HttpRequestInfo.Complete"/> for
/// request spans, <see cref="SpanBuffer.TryWrite"/>), attaching the request's <see cref="HttpRequestInfo"/>, and a
/// pipeline stage (<see cref="HttpRequestInfo.BeginStage"/>/<see cref="HttpRequestInfo.EndStage"/>).
/// The buffer is drained after each iteration (fixed invocation count, capacity twice that), so no write takes
/// the drop path. Request cases re-arm the same hot objects between invocations (see the accessors below)
/// instead of walking a large array of cold ones, as a real request touches objects it has just used.
/// </summary>
[MemoryDiagnoser]
[InvocationCount(Invocations)]
[WarmupCount(15)]
[IterationCount(15)]
public class CaptureBenchmarks : IDisposable
{
    private const int Invocations = 1 << 20;

    private readonly List<Activity> _drained = new(Invocations);
    private readonly RequestCaptureSettings _settings = Fixtures.CaptureSettings();
    private readonly StageDefinition _stage = Fixtures.Stages[1];
    private SpanBuffer _buffer = null!;
    private ActivityCapture? _capture;
    private Activity _internalSpan = null!;
    private Activity _requestSpan = null!;
    private HttpRequestInfo _requestInfo = null!;
    private DefaultHttpContext _context = null!;

    // Re-arming the same objects so every invocation is a first one: Complete() forgets the HttpContext after
    // reading it once; the activity creates its property dictionary only for its first custom property; the
    // request feature is looked up before the info is created; stages are appended to the request's stage array.
    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_context")]
    private static extern ref HttpContext? ContextOf(HttpRequestInfo info);

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_customProperties")]
    private static extern ref Dictionary<string, object>? CustomPropertiesOf(Activity activity);

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_stageCount")]
    private static extern ref int StageCountOf(HttpRequestInfo info);

    [GlobalSetup]
    public void GlobalSetup()
    {
        _buffer = new SpanBuffer(Invocations * 2);
        _capture = new ActivityCapture(_buffer, new ActivitySourceFilter([]));
        _context = Fixtures.NewHttpContext();
        _internalSpan = Fixtures.NewStoppedActivity("internal-step");
        _requestSpan = Fixtures.NewStoppedActivity(FlowScopeSources.HostingOperationName);
        Fixtures.SetActivity(_context, _requestSpan);
        _requestInfo = HttpRequestInfo.For(_context, _settings)!;
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

    /// <summary>A span without request info (worker, queue, user source): property look-up + write.</summary>
    [Benchmark(Baseline = true)]
    public void OnStoppedInternalSpan() => _capture!.OnStopped(_internalSpan);

    /// <summary>An ASP.NET Core request span: look-up + Complete (status code, endpoint route) + write.</summary>
    [Benchmark]
    public void OnStoppedRequestSpan()
    {
        ContextOf(_requestInfo) = _context;
        _capture!.OnStopped(_requestSpan);
    }

    /// <summary>
    /// The first FlowScope code a request meets: <c>HttpRequestInfo.For</c> creates the request's info and sets it
    /// as the activity's first custom property and as a request feature.
    /// </summary>
    [Benchmark]
    public object? RequestAttach()
    {
        Rearm();
        return HttpRequestInfo.For(_context, _settings);
    }

    /// <summary>One pipeline stage that completes synchronously: For (feature hit) + BeginStage + EndStage.</summary>
    [Benchmark]
    public void Stage()
    {
        StageCountOf(_requestInfo) = 0;
        var info = HttpRequestInfo.For(_context, _settings)!;
        info.EndStage(info.BeginStage(_stage), null);
    }

    /// <summary>
    /// Everything FlowScope does on the request thread for one request through four nested, synchronously
    /// completing stages: attach, the four stages, then the listener's OnStopped.
    /// </summary>
    [Benchmark]
    public void RequestWith4StagesTotal()
    {
        Rearm();
        var info = HttpRequestInfo.For(_context, _settings)!;
        var a = info.BeginStage(Fixtures.Stages[0]);
        var b = HttpRequestInfo.For(_context, _settings)!.BeginStage(Fixtures.Stages[1]);
        var c = HttpRequestInfo.For(_context, _settings)!.BeginStage(Fixtures.Stages[2]);
        var d = HttpRequestInfo.For(_context, _settings)!.BeginStage(Fixtures.Stages[3]);
        info.EndStage(d, null);
        info.EndStage(c, null);
        info.EndStage(b, null);
        info.EndStage(a, null);
        _capture!.OnStopped(_requestSpan);
    }

    private void Rearm()
    {
        CustomPropertiesOf(_requestSpan) = null;
        _context.Features.Set<HttpRequestInfo>(null);
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _capture?.Dispose();
        _capture = null;
        GC.SuppressFinalize(this);
    }
}
