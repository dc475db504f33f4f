using System.Diagnostics;
using FlowScope.Embedded.Capture;
using FlowScope.Embedded.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FlowScope.Embedded.Workers.Internal;

/// <summary>
/// Makes every hosted service of the app visible without wrapping its registration. The host calls
/// <see cref="StartingAsync"/> of all lifecycle services before it starts any service, so the services are listed
/// as <c>starting</c>; after all have started (<see cref="StartedAsync"/>) each is <c>running</c>, and a
/// <see cref="BackgroundService"/>'s <see cref="BackgroundService.ExecuteTask"/> is watched: faulted → <c>faulted</c>
/// with the exception (and a one-span trace), completed → <c>stopped</c>. What cannot be seen this way: when
/// one service's own <c>StartAsync</c> finished (the start time is the end of host start), and whether a plain
/// <see cref="IHostedService"/> that is not a <see cref="BackgroundService"/> still does anything.
/// </summary>
internal sealed class WorkerLifecycleObserver : IHostedLifecycleService
{
    // The web server's host is framework plumbing, not one of the app's workers.
    private const string WebHostServiceType = "Microsoft.AspNetCore.Hosting.GenericWebHostService";

    private readonly IServiceProvider _services;
    private readonly WorkerRegistry _registry;
    private readonly FlowScopeOptions _options;
    private readonly ILogger _logger;
    private readonly List<WorkerState> _tracked = [];

    public WorkerLifecycleObserver(IServiceProvider services, WorkerRegistry registry, IOptions<FlowScopeOptions> options, ILoggerFactory loggers)
    {
        _services = services;
        _registry = registry;
        _options = options.Value;
        _logger = loggers.CreateLogger("FlowScope.Embedded.Workers");
    }

    public Task StartingAsync(CancellationToken cancellationToken)
    {
        InstrumentationFailures.Attach(_logger);
        if (!_options.Enabled)
        {
            return Task.CompletedTask;
        }

        try
        {
            foreach (var service in _services.GetServices<IHostedService>())
            {
                if (IsObserved(service))
                {
                    var state = _registry.Track(service);
                    state.Starting();
                    _tracked.Add(state);
                }
            }

            AsyncInstrumentationLog.WorkersObserved(_logger, _tracked.Count);
        }
        catch (Exception ex)
        {
            InstrumentationFailures.Report("worker", ex);
        }

        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken)
    {
        foreach (var state in _tracked)
        {
            try
            {
                state.Started();
                if (state.Instance is BackgroundService { ExecuteTask: { } execution })
                {
                    execution.ContinueWith(
                        static (task, s) => ((WorkerState)s!).OnExecutionEnded(task),
                        state,
                        CancellationToken.None,
                        TaskContinuationOptions.ExecuteSynchronously,
                        TaskScheduler.Default);
                }
            }
            catch (Exception ex)
            {
                InstrumentationFailures.Report("worker", ex);
            }
        }

        return Task.CompletedTask;
    }

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken)
    {
        foreach (var state in _tracked)
        {
            state.Stopped();
        }

        return Task.CompletedTask;
    }

    private static bool IsObserved(IHostedService service)
    {
        var type = service.GetType();
        return type.Assembly != typeof(WorkerLifecycleObserver).Assembly
            && !string.Equals(type.FullName, WebHostServiceType, StringComparison.Ordinal);
    }
}

/// <summary>What happens when a watched <see cref="BackgroundService.ExecuteTask"/> ends.</summary>
internal static class WorkerExecutionEnd
{
    public static void OnExecutionEnded(this WorkerState state, Task execution)
    {
        try
        {
            if (execution.IsFaulted && execution.Exception is { } aggregate)
            {
                var exception = aggregate.InnerExceptions.Count == 1 ? aggregate.InnerExceptions[0] : aggregate;
                state.Faulted(exception);
                RecordFault(state, exception);
            }
            else
            {
                state.Stopped();
            }
        }
        catch (Exception ex)
        {
            InstrumentationFailures.Report("worker", ex);
        }
    }

    /// <summary>A fault is also a one-span trace, so it shows in the trace list with its exception.</summary>
    private static void RecordFault(WorkerState state, Exception exception)
    {
        Activity.Current = null;
        using var activity = WorkerTracing.Source.StartActivity(state.Name + " faulted", ActivityKind.Internal);
        if (activity is not { IsAllDataRequested: true })
        {
            return;
        }

        activity.SetTag(SpanConverter.ComponentAttribute, SpanComponents.Worker);
        activity.SetTag(WorkerTracing.NameAttribute, state.Name);
        activity.SetTag(WorkerTracing.TypeAttribute, state.Type.FullName);
        activity.SetTag(WorkerTracing.OutcomeAttribute, WorkerStates.Faulted);
        activity.SetTag("error.type", exception.GetType().FullName ?? exception.GetType().Name);
        activity.SetStatus(ActivityStatusCode.Error, exception.Message);
        activity.AddException(exception);
    }
}
