using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using FlowScope.Embedded.Buffering;
using FlowScope.Embedded.Capture;

namespace FlowScope.Embedded.Benchmarks;

/// <summary>
/// The whole cost a span pays on the thread that creates it: <c>ActivitySource.StartActivity</c> + <c>Stop</c>,
/// side by side with no listener, with a bare listener that samples everything and does nothing, and with
/// FlowScope's listener (its sampling callback, then <c>OnStopped</c>). BenchmarkDotNet runs each case in its
/// own process, so exactly one of these listeners exists while a case runs. The buffer is drained after each
/// iteration (not measured): the pump's conversion is measured separately by <see cref="ConverterBenchmarks"/>.
/// Iterations are short (32 768 spans, so the buffer never holds more than about 14 MB of activities), hence
/// many of them, and each case first runs its path for a while so tiered compilation has settled.
/// </summary>
[MemoryDiagnoser]
[InvocationCount(Invocations)]
[WarmupCount(40)]
[IterationCount(40)]
public class ListenerOverheadBenchmarks : IDisposable
{
    private const int Invocations = 32_768;

    private readonly ActivitySource _source = new(Fixtures.UserSourceName);
    private readonly List<Activity> _drained = new(Invocations);
    private ActivityListener? _bare;
    private SpanBuffer? _buffer;
    private ActivityCapture? _capture;
    private bool _warmed;

    [GlobalSetup(Target = nameof(BareListener))]
    public void SetupBare()
    {
        _bare = new ActivityListener
        {
            ShouldListenTo = s => string.Equals(s.Name, Fixtures.UserSourceName, StringComparison.Ordinal),
            Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
            ActivityStopped = static _ => { },
        };
        ActivitySource.AddActivityListener(_bare);
    }

    [GlobalSetup(Target = nameof(FlowScopeListener))]
    public void SetupFlowScope()
    {
        _buffer = new SpanBuffer(Invocations * 2);
        _capture = new ActivityCapture(_buffer, new ActivitySourceFilter([Fixtures.UserSourceName]));
        _capture.Start();
    }

    [IterationSetup]
    public void WarmOnce()
    {
        if (_warmed)
        {
            return;
        }

        // Reach tier-1 code for the listener callbacks before the first warm-up iteration.
        for (var round = 0; round < 4; round++)
        {
            for (var i = 0; i < Invocations; i++)
            {
                _source.StartActivity("step")?.Stop();
            }

            Drain();

            Thread.Sleep(150);
        }

        _warmed = true;
    }

    [IterationCleanup]
    public void Drain()
    {
        if (_buffer is null)
        {
            return;
        }

        while (_buffer.Drain(_drained, Invocations) > 0)
        {
            _drained.Clear();
        }
    }

    [Benchmark]
    public void NoListener() => _source.StartActivity("step")?.Stop();

    [Benchmark(Baseline = true)]
    public void BareListener() => _source.StartActivity("step")?.Stop();

    [Benchmark]
    public void FlowScopeListener() => _source.StartActivity("step")?.Stop();

    [GlobalCleanup]
    public void Dispose()
    {
        GC.SuppressFinalize(this);
        if (_buffer is not null)
        {
            // Printed into the benchmark log: a dropped span would mean the case measured the drop path.
            Console.WriteLine($"// FlowScope buffer: dropped={_buffer.Dropped}, drained={_buffer.Accepted}");
        }

        _capture?.Dispose();
        _bare?.Dispose();
        _source.Dispose();
    }
}
