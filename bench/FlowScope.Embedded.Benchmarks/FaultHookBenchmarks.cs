using BenchmarkDotNet.Attributes;
using FlowScope.Embedded.Capture;
using FlowScope.Embedded.Faults;
using FlowScope.Embedded.Instrumentation.Pipeline;
using FlowScope.Embedded.Metrics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace FlowScope.Embedded.Benchmarks;

/// <summary>
/// What fault injection costs a timed middleware while nothing is injected into it: the same middleware wrapped by
/// FlowScope's pipeline instrumentation with injection disabled in options (the baseline: the wrapper holds no
/// injector), enabled but idle (one field read), and enabled with an injection active on another middleware (the
/// name comparison every run then makes). Each invocation is a request's first stage (its request info is created
/// anew), the same in every case.
/// </summary>
public class FaultHookBenchmarks
{
    private readonly FakeClock _time = new();
    private DefaultHttpContext _context = null!;
    private RequestDelegate _disabled = null!;
    private RequestDelegate _idle = null!;
    private RequestDelegate _otherActive = null!;

    [GlobalSetup]
    public void GlobalSetup()
    {
        _context = Fixtures.NewHttpContext();
        Fixtures.SetActivity(_context, Fixtures.NewStoppedActivity(FlowScopeSources.HostingOperationName));
        _disabled = Build(enabled: false, activeOn: null);
        _idle = Build(enabled: true, activeOn: null);
        _otherActive = Build(enabled: true, activeOn: "SomeOtherMiddleware");
    }

    [Benchmark(Baseline = true)]
    public Task InjectionDisabled() => Invoke(_disabled);

    [Benchmark]
    public Task InjectionEnabledIdle() => Invoke(_idle);

    [Benchmark]
    public Task InjectionActiveOnAnotherMiddleware() => Invoke(_otherActive);

    private Task Invoke(RequestDelegate middleware)
    {
        _context.Features.Set<HttpRequestInfo>(null);
        return middleware(_context);
    }

    private RequestDelegate Build(bool enabled, string? activeOn)
    {
        var options = Options.Create(new FlowScopeOptions { EnableFaultInjection = enabled });
        var faults = new FaultInjector(options, _time);
        if (activeOn is not null && !faults.TryAdd(new FaultRequest(FaultKind.Middleware, activeOn, 100, null, 0, 86_400, null), out _))
        {
            throw new InvalidOperationException("The injection was refused.");
        }

        var pipeline = new PipelineInstrumentation(options, NullLoggerFactory.Instance, new RequestMetrics(), faults);
        RequestDelegate end = static _ => Task.CompletedTask;
        return pipeline.Wrap(next => new PassThroughMiddleware(next).InvokeAsync)(end);
    }

    /// <summary>A middleware that only calls the next one.</summary>
    private sealed class PassThroughMiddleware(RequestDelegate next)
    {
        public Task InvokeAsync(HttpContext context) => next(context);
    }

    /// <summary>A clock that never moves, so an injection never expires during the run.</summary>
    private sealed class FakeClock : TimeProvider
    {
        private readonly DateTimeOffset _now = DateTimeOffset.UtcNow;

        public override DateTimeOffset GetUtcNow() => _now;
    }
}
