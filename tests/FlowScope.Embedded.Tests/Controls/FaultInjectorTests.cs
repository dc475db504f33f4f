using FlowScope.Embedded.Faults;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace FlowScope.Embedded.Tests.Controls;

public sealed class FaultInjectorTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 22, 12, 0, 0, TimeSpan.Zero));

    private FaultInjector Create(bool enabled = true) =>
        new(Options.Create(new FlowScopeOptions { EnableFaultInjection = enabled }), _time);

    private static FaultRequest Request(string component = "AuditMiddleware", double delayMs = 0, double? maxDelayMs = null, double failureRate = 0, double? durationSeconds = null, long? maxHits = null) =>
        new(FaultKind.Middleware, component, delayMs, maxDelayMs, failureRate, durationSeconds, maxHits);

    [Fact]
    public void Nothing_is_active_until_an_injection_is_added_and_only_its_component_and_kind_match()
    {
        var faults = Create();
        Assert.True(faults.Enabled);
        Assert.False(faults.IsActive);
        Assert.Null(faults.TryHit(FaultKind.Middleware, "AuditMiddleware"));

        Assert.True(faults.TryAdd(Request(delayMs: 200), out var fault));
        Assert.True(faults.IsActive);
        Assert.Null(faults.TryHit(FaultKind.Middleware, "OtherMiddleware"));
        Assert.Null(faults.TryHit(FaultKind.Queue, "AuditMiddleware"));
        var hit = faults.TryHit(FaultKind.Middleware, "auditmiddleware")!.Value; // names match without case
        Assert.Same(fault, hit.Fault);
        Assert.Equal(TimeSpan.FromMilliseconds(200), hit.Delay);
        Assert.False(hit.Fail);
        Assert.NotNull(faults.TryHit(FaultKind.Middleware, "Other", "AuditMiddleware")); // a second name (the type's full name)
        Assert.Equal(2, fault!.Hits);
        Assert.Equal(2, fault.DelaysInjected);
        Assert.Equal(0, fault.FailuresInjected);
    }

    [Fact]
    public void Without_a_limit_an_injection_ends_after_the_default_duration_and_with_one_after_its_own()
    {
        var faults = Create();
        faults.TryAdd(Request(delayMs: 1), out var unlimited);
        faults.TryAdd(Request(component: "Short", delayMs: 1, durationSeconds: 10), out var brief);
        Assert.Equal(_time.GetUtcNow() + FaultInjector.DefaultDuration, unlimited!.ExpiresAt);

        _time.Advance(TimeSpan.FromSeconds(10));
        Assert.Null(faults.TryHit(FaultKind.Middleware, "Short"));
        Assert.Equal([unlimited.Id], faults.List().Select(f => f.Id));

        _time.Advance(FaultInjector.DefaultDuration);
        Assert.Empty(faults.List());
        Assert.False(faults.IsActive);
        Assert.Equal(0, brief!.Hits);
    }

    [Fact]
    public void A_hit_limited_injection_applies_exactly_that_many_times()
    {
        var faults = Create();
        faults.TryAdd(Request(failureRate: 1, maxHits: 3), out var fault);
        Assert.Null(fault!.ExpiresAt); // hits alone limit it
        var fired = Enumerable.Range(0, 10).Count(_ => faults.TryHit(FaultKind.Middleware, "AuditMiddleware") is { Fail: true });
        Assert.Equal(3, fired);
        Assert.Equal(3, fault.FailuresInjected);
        Assert.False(faults.IsActive);
    }

    [Fact]
    public void Random_delays_stay_in_their_range_and_a_failure_rate_fires_about_that_often()
    {
        var faults = Create();
        faults.TryAdd(Request(delayMs: 100, maxDelayMs: 300, failureRate: 0.25, maxHits: 100_000), out _);
        var hits = Enumerable.Range(0, 20_000).Select(_ => faults.TryHit(FaultKind.Middleware, "AuditMiddleware")!.Value).ToArray();
        Assert.All(hits, h => Assert.InRange(h.Delay.TotalMilliseconds, 100, 300));
        Assert.True(hits.Min(h => h.Delay.TotalMilliseconds) < 110 && hits.Max(h => h.Delay.TotalMilliseconds) > 290, "the whole range is used");
        Assert.InRange(hits.Count(h => h.Fail) / 20_000.0, 0.22, 0.28); // 0.25 ± 7 standard deviations
    }

    [Fact]
    public void At_most_MaxActive_injections_are_held_and_stopping_frees_room()
    {
        var faults = Create();
        var ids = new List<string>();
        for (var i = 0; i < FaultInjector.MaxActive; i++)
        {
            Assert.True(faults.TryAdd(Request(component: "M" + i, delayMs: 1), out var fault));
            ids.Add(fault!.Id);
        }

        Assert.Matches("^f1-[0-9a-f]{4}$", ids[0]);
        Assert.Equal(FaultInjector.MaxActive, ids.Select(id => id.Split('-')[1]).Count(suffix => suffix == ids[0].Split('-')[1]));
        Assert.False(faults.TryAdd(Request(delayMs: 1), out var refused));
        Assert.Null(refused);
        Assert.True(faults.Remove(ids[0]));
        Assert.False(faults.Remove(ids[0]));
        Assert.True(faults.TryAdd(Request(delayMs: 1), out var added));
        Assert.StartsWith("f" + (FaultInjector.MaxActive + 1) + "-", added!.Id, StringComparison.Ordinal); // numbers are never reused
        Assert.Equal(FaultInjector.MaxActive, faults.Clear());
        Assert.False(faults.IsActive);
    }

    [Fact]
    public void The_marks_name_the_injection_and_the_exception_names_it_too()
    {
        var faults = Create();
        faults.TryAdd(Request(delayMs: 40, failureRate: 1, maxHits: 1), out var fault);
        var id = fault!.Id;
        var hit = faults.TryHit(FaultKind.Middleware, "AuditMiddleware")!.Value;
        Assert.Equal(
            [new("flowscope.fault.id", id), new("flowscope.fault.delay_ms", "40"), new("flowscope.fault.failure", "true")],
            hit.Attributes());
        var exception = hit.CreateException();
        Assert.Equal(id, exception.FaultId);
        Assert.Equal("AuditMiddleware", exception.Component);
        Assert.Equal($"FlowScope injected a 40 ms delay and a failure into middleware 'AuditMiddleware' (fault {id}).", exception.Message);

        // Another process (a restart, another instance) numbers its injections apart.
        var other = Create();
        other.TryAdd(Request(delayMs: 1), out var elsewhere);
        Assert.StartsWith("f1-", elsewhere!.Id, StringComparison.Ordinal);
    }

    [Fact]
    public void Requests_are_validated_field_by_field()
    {
        static string? Error(FaultRequestBody body)
        {
            FaultRequest.Validate(body, out var parameter, out _);
            return parameter;
        }

        Assert.Equal("body", Error(null!));
        Assert.Equal("kind", Error(new("nope", "x", 1, null, null, null, null)));
        Assert.Equal("component", Error(new("middleware", " ", 1, null, null, null, null)));
        Assert.Equal("component", Error(new("middleware", new string('x', 301), 1, null, null, null, null)));
        Assert.Equal("delayMs", Error(new("middleware", "x", double.NaN, null, null, null, null)));
        Assert.Equal("delayMs", Error(new("middleware", "x", null, null, null, null, null)));
        Assert.Equal("maxDelayMs", Error(new("middleware", "x", 10, 5, null, null, null)));
        Assert.Equal("failureRate", Error(new("middleware", "x", null, null, -0.1, null, null)));
        Assert.Equal("durationSeconds", Error(new("middleware", "x", 1, null, null, 86_401, null)));
        Assert.Equal("maxHits", Error(new("middleware", "x", 1, null, null, null, 1_000_001)));
        Assert.Null(Error(new("Queue", " orders ", null, 50, null, null, null))); // a range from 0 is a delay too

        var ok = FaultRequest.Validate(new("Queue", " orders ", null, null, 0.5, 30, null), out _, out _)!;
        Assert.Equal((FaultKind.Queue, "orders", 0.5, 30.0), (ok.Kind, ok.Component, ok.FailureRate, ok.DurationSeconds!.Value));
    }
}
