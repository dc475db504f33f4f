using System.Diagnostics;
using FlowScope.Embedded.Capture;
using FlowScope.Embedded.Diagnostics;
using FlowScope.Embedded.Storage;
using FlowScope.Embedded.Workers.Internal;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FlowScope.Embedded.Simulators.Internal;

/// <summary>
/// Runs one simulator: while running, one run after another at the set rate, each in its own service scope and its
/// own trace. Start, stop and rate changes take effect at once (a pending wait is cut short).
/// </summary>
internal sealed class SimulatorRunner
{
    internal const string ActivitySourceName = "FlowScope.Simulators";
    internal const string NameAttribute = "flowscope.simulator.name";
    internal static readonly ActivitySource Source = new(ActivitySourceName);

    private readonly Lock _lock = new();
    private readonly SimulatorRegistration _registration;
    private readonly IServiceScopeFactory _scopes;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string _spanName;
    private TaskCompletionSource _changed = NewSignal();
    private bool _running;
    private double _rate;
    private long _runs;
    private long _failures;
    private bool _failureLogged;
    private string? _lastError;
    private DateTimeOffset? _lastRunAt;
    private DateTimeOffset? _startedAt;
    private volatile bool _parked;

    public SimulatorRunner(SimulatorRegistration registration, SimulatorOptions options, IServiceScopeFactory scopes, TimeProvider time, ILogger logger)
    {
        _registration = registration;
        _scopes = scopes;
        _time = time;
        _logger = logger;
        _spanName = "simulate " + registration.Name;
        Description = options.Description;
        MaxRate = options.MaxRatePerSecond;
        _rate = options.RatePerSecond;
        _running = options.StartOnStartup;
        if (_running)
        {
            _startedAt = time.GetUtcNow();
        }
    }

    public string Name => _registration.Name;

    public string? Description { get; }

    public double MaxRate { get; }

    /// <summary>Gets whether the loop is stopped and waiting to be started (no run can begin until it is).</summary>
    internal bool IsParked => _parked;

    public SimulatorSnapshot Snapshot()
    {
        lock (_lock)
        {
            return new SimulatorSnapshot(Name, Description, _running, _rate, SimulatorOptions.MinRatePerSecond, MaxRate, _runs, _failures, _lastError, _lastRunAt, _startedAt);
        }
    }

    /// <summary>Starts, stops and/or paces the simulator. The rate must already be within range.</summary>
    public void Set(bool? running, double? rate)
    {
        lock (_lock)
        {
            if (rate is { } value)
            {
                _rate = value;
            }

            if (running is { } run && run != _running)
            {
                _running = run;
                if (run)
                {
                    _startedAt = _time.GetUtcNow();
                    _failureLogged = false;
                }
            }

            var changed = _changed;
            _changed = NewSignal();
            changed.TrySetResult();
        }
    }

    /// <summary>The simulator's loop, from app start to host stop.</summary>
    public async Task RunAsync(CancellationToken stopping)
    {
        Activity.Current = null; // every run is a trace of its own
        while (!stopping.IsCancellationRequested)
        {
            Task changed;
            bool running;
            lock (_lock)
            {
                changed = _changed.Task;
                running = _running;
            }

            if (!running)
            {
                _parked = true;
                try
                {
                    await changed.WaitAsync(stopping).ConfigureAwait(false);
                }
                finally
                {
                    _parked = false;
                }

                continue;
            }

            var started = _time.GetTimestamp();
            await RunOnceAsync(stopping).ConfigureAwait(false);

            double rate;
            lock (_lock)
            {
                rate = _rate;
                changed = _changed.Task;
            }

            var wait = TimeSpan.FromSeconds(1 / rate) - _time.GetElapsedTime(started);
            if (wait > TimeSpan.Zero && !changed.IsCompleted)
            {
                using var cancel = CancellationTokenSource.CreateLinkedTokenSource(stopping);
                var delay = Task.Delay(wait, _time, cancel.Token);
                await Task.WhenAny(delay, changed).ConfigureAwait(false);
                await cancel.CancelAsync().ConfigureAwait(false);
            }
        }
    }

    private async Task RunOnceAsync(CancellationToken stopping)
    {
        Activity.Current = null;
        using var activity = Source.StartActivity(_spanName, ActivityKind.Internal, parentContext: default);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag(SpanConverter.ComponentAttribute, SpanComponents.Simulator);
            activity.SetTag(NameAttribute, Name);
        }

        try
        {
            var scope = _scopes.CreateAsyncScope();
            await using (scope.ConfigureAwait(false))
            {
                await _registration.Run(scope.ServiceProvider, stopping).ConfigureAwait(false);
            }

            lock (_lock)
            {
                _runs++;
                _lastRunAt = _time.GetUtcNow();
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            activity?.SetStatus(ActivityStatusCode.Error, "The host stopped during the run.");
        }
        catch (Exception ex)
        {
            InstrumentationFailures.MarkFailed(activity, ex, "simulator");
            bool log;
            lock (_lock)
            {
                _runs++;
                _failures++;
                _lastRunAt = _time.GetUtcNow();
                _lastError = $"{ex.GetType().FullName}: {ex.Message}";
                if (_lastError.Length > 500)
                {
                    _lastError = _lastError[..500];
                }

                log = !_failureLogged;
                _failureLogged = true;
            }

            if (log)
            {
                Log.SimulatorFailed(_logger, ex, Name);
            }
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>A simulator's state as the API shows it.</summary>
internal sealed record SimulatorSnapshot(
    string Name,
    string? Description,
    bool Running,
    double RatePerSecond,
    double MinRatePerSecond,
    double MaxRatePerSecond,
    long Runs,
    long Failures,
    string? LastError,
    DateTimeOffset? LastRunAt,
    DateTimeOffset? StartedAt);
