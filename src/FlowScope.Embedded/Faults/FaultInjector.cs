using System.Diagnostics;
using System.Globalization;
using FlowScope.Embedded.Storage;
using Microsoft.Extensions.Options;

namespace FlowScope.Embedded.Faults;

/// <summary>
/// The delays and failures operators injected from the dashboard. Instrumented components ask
/// <see cref="IsActive"/> first — one field read while nothing is injected — and only then look for a matching fault.
/// At most <see cref="MaxActive"/> injections are active; each ends after its duration or its number of hits.
/// </summary>
internal sealed class FaultInjector
{
    /// <summary>How many injections may be active at once.</summary>
    internal const int MaxActive = 32;

    /// <summary>How long an injection lasts when neither a duration nor a number of hits is given.</summary>
    internal static readonly TimeSpan DefaultDuration = TimeSpan.FromMinutes(5);

    internal const string IdAttribute = "flowscope.fault.id";
    internal const string DelayAttribute = "flowscope.fault.delay_ms";
    internal const string FailureAttribute = "flowscope.fault.failure";
    internal const string EventName = "flowscope.fault";

    private readonly Lock _lock = new();
    private readonly TimeProvider _time;
    private ActiveFault[] _active = [];
    private int _lastId;

    // Ids are "f{n}-{process}": numbered in the order injected, and unlike across restarts and instances, so the
    // spans of a shared (Redis) history are never attributed to another process's injection.
    private readonly string _idSuffix = "-" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(2));

    public FaultInjector(IOptions<FlowScopeOptions> options, TimeProvider time)
    {
        var value = options.Value;
        Enabled = value.Enabled && value.EnableFaultInjection;
        _time = time;
    }

    /// <summary>Gets whether the options allow injection at all.</summary>
    public bool Enabled { get; }

    /// <summary>Gets whether any injection may apply: the only check on the request path while none is.</summary>
    public bool IsActive => Volatile.Read(ref _active).Length != 0;

    internal TimeProvider Time => _time;

    /// <summary>
    /// Finds the injection for a component that is about to run and decides what happens to this run: how long to
    /// wait and whether to fail. Counts the hit; an injection whose hits or time are used up ends here.
    /// </summary>
    public FaultHit? TryHit(string kind, string name, string? otherName = null, string? thirdName = null)
    {
        var active = Volatile.Read(ref _active);
        if (active.Length == 0)
        {
            return null;
        }

        var now = _time.GetUtcNow();
        foreach (var fault in active)
        {
            if (!fault.Matches(kind, name, otherName, thirdName))
            {
                continue;
            }

            if (fault.ExpiresAt is { } expires && now >= expires)
            {
                Remove(fault.Id);
                continue;
            }

            var hits = fault.CountHit();
            if (fault.MaxHits is { } max && hits >= max)
            {
                Remove(fault.Id); // this is the last hit
                if (hits > max)
                {
                    continue;
                }
            }

            var random = Random.Shared;
            var delay = fault.MaxDelay > fault.MinDelay
                ? fault.MinDelay + TimeSpan.FromTicks((long)(random.NextDouble() * (fault.MaxDelay - fault.MinDelay).Ticks))
                : fault.MinDelay;
            var fail = fault.FailureRate > 0 && random.NextDouble() < fault.FailureRate;
            fault.CountOutcome(delay > TimeSpan.Zero, fail);
            return new FaultHit(fault, delay, fail);
        }

        return null;
    }

    /// <summary>Adds an injection; the caller has validated the request (see <see cref="FaultRequest"/>).</summary>
    public bool TryAdd(FaultRequest request, out ActiveFault? fault)
    {
        var now = _time.GetUtcNow();
        lock (_lock)
        {
            var current = Prune(now);
            if (current.Length >= MaxActive)
            {
                fault = null;
                return false;
            }

            var duration = request.DurationSeconds is { } seconds
                ? TimeSpan.FromSeconds(seconds)
                : request.MaxHits is null ? DefaultDuration : (TimeSpan?)null;
            fault = new ActiveFault(
                "f" + (++_lastId).ToString(CultureInfo.InvariantCulture) + _idSuffix,
                request.Kind,
                request.Component,
                TimeSpan.FromMilliseconds(request.DelayMs),
                TimeSpan.FromMilliseconds(request.MaxDelayMs ?? request.DelayMs),
                request.FailureRate,
                now,
                now + duration,
                request.MaxHits);
            Volatile.Write(ref _active, [.. current, fault]);
            return true;
        }
    }

    public bool Remove(string id)
    {
        lock (_lock)
        {
            var current = _active;
            var index = Array.FindIndex(current, f => string.Equals(f.Id, id, StringComparison.OrdinalIgnoreCase));
            if (index < 0)
            {
                return false;
            }

            Volatile.Write(ref _active, [.. current[..index], .. current[(index + 1)..]]);
            return true;
        }
    }

    public int Clear()
    {
        lock (_lock)
        {
            var count = _active.Length;
            Volatile.Write(ref _active, []);
            return count;
        }
    }

    /// <summary>Gets the injections still active (ending those whose time is up).</summary>
    public IReadOnlyList<ActiveFault> List()
    {
        lock (_lock)
        {
            return Prune(_time.GetUtcNow());
        }
    }

    private ActiveFault[] Prune(DateTimeOffset now)
    {
        var current = _active;
        if (Array.Exists(current, f => f.IsOver(now)))
        {
            current = Array.FindAll(current, f => !f.IsOver(now));
            Volatile.Write(ref _active, current);
        }

        return current;
    }
}

/// <summary>One active injection and what it has done so far.</summary>
internal sealed class ActiveFault(
    string id,
    string kind,
    string component,
    TimeSpan minDelay,
    TimeSpan maxDelay,
    double failureRate,
    DateTimeOffset createdAt,
    DateTimeOffset? expiresAt,
    long? maxHits)
{
    private long _hits;
    private long _delays;
    private long _failures;

    public string Id { get; } = id;

    public string Kind { get; } = kind;

    public string Component { get; } = component;

    public TimeSpan MinDelay { get; } = minDelay;

    public TimeSpan MaxDelay { get; } = maxDelay;

    public double FailureRate { get; } = failureRate;

    public DateTimeOffset CreatedAt { get; } = createdAt;

    public DateTimeOffset? ExpiresAt { get; } = expiresAt;

    public long? MaxHits { get; } = maxHits;

    public long Hits => Interlocked.Read(ref _hits);

    public long DelaysInjected => Interlocked.Read(ref _delays);

    public long FailuresInjected => Interlocked.Read(ref _failures);

    public bool Matches(string kind, string name, string? otherName, string? thirdName) =>
        string.Equals(Kind, kind, StringComparison.Ordinal)
        && (string.Equals(Component, name, StringComparison.OrdinalIgnoreCase)
            || string.Equals(Component, otherName, StringComparison.OrdinalIgnoreCase)
            || string.Equals(Component, thirdName, StringComparison.OrdinalIgnoreCase));

    public bool IsOver(DateTimeOffset now) =>
        (ExpiresAt is { } expires && now >= expires) || (MaxHits is { } max && Hits >= max);

    public long CountHit() => Interlocked.Increment(ref _hits);

    public void CountOutcome(bool delayed, bool failed)
    {
        if (delayed)
        {
            Interlocked.Increment(ref _delays);
        }

        if (failed)
        {
            Interlocked.Increment(ref _failures);
        }
    }
}

/// <summary>What one run of a component gets from an injection.</summary>
internal readonly record struct FaultHit(ActiveFault Fault, TimeSpan Delay, bool Fail)
{
    public string DelayMs => Math.Round(Delay.TotalMilliseconds, 1).ToString(CultureInfo.InvariantCulture);

    /// <summary>The attributes that mark the span this run belongs to as touched by an injection.</summary>
    public KeyValuePair<string, string>[] Attributes() =>
    [
        new(FaultInjector.IdAttribute, Fault.Id),
        new(FaultInjector.DelayAttribute, DelayMs),
        new(FaultInjector.FailureAttribute, Fail ? "true" : "false"),
    ];

    public string Describe()
    {
        var what = (Delay > TimeSpan.Zero, Fail) switch
        {
            (true, true) => $"a {DelayMs} ms delay and a failure",
            (true, false) => $"a {DelayMs} ms delay",
            (false, true) => "a failure",
            _ => "nothing (the failure rate did not fire)",
        };
        return $"FlowScope injected {what} into {Fault.Kind} '{Fault.Component}' (fault {Fault.Id})";
    }

    public InjectedFaultException CreateException() =>
        new($"{Describe()}.") { FaultId = Fault.Id, Component = Fault.Component };

    /// <summary>The event recorded on the touched span.</summary>
    public SpanEvent CreateEvent(DateTimeOffset at) => new(FaultInjector.EventName, at, [new("message", Describe()), .. Attributes()]);

    /// <summary>Marks an activity this run belongs to (queue attempts, units of work).</summary>
    public void Mark(Activity? activity, DateTimeOffset at)
    {
        if (activity is not { IsAllDataRequested: true })
        {
            return;
        }

        foreach (var attribute in Attributes())
        {
            activity.SetTag(attribute.Key, attribute.Value);
        }

        activity.AddEvent(new ActivityEvent(FaultInjector.EventName, at, [new("message", Describe()), new(FaultInjector.IdAttribute, Fault.Id)]));
    }
}
