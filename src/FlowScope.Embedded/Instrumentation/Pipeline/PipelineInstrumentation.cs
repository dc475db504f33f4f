using System.Diagnostics;
using System.Runtime.CompilerServices;
using FlowScope.Embedded.Capture;
using FlowScope.Embedded.Diagnostics;
using FlowScope.Embedded.Faults;
using FlowScope.Embedded.Metrics;
using FlowScope.Embedded.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FlowScope.Embedded.Instrumentation.Pipeline;

/// <summary>
/// Times every middleware of the request pipeline as a stage of the request. Startup-style pipelines are
/// instrumented through an <see cref="IApplicationBuilder"/> decorator handed to <c>Configure</c> by a startup
/// filter. A <see cref="WebApplication"/> keeps its middleware in a builder of its own that the host never sees,
/// so <c>UseFlowScope</c> registers the application and, just before the host builds the pipeline, its registered
/// middleware are wrapped in place.
/// </summary>
internal sealed class PipelineInstrumentation
{
    private readonly MiddlewareNames _names = new();
    private readonly List<WebApplication> _applications = [];
    private readonly ILogger _logger;
    private readonly List<StageDefinition> _defined = [];
    private readonly FaultInjector? _faults;
    private readonly StageDefinition _unmatchedEndpoint = new("EndpointMiddleware", SpanComponents.Middleware, "Microsoft.AspNetCore.Routing.EndpointMiddleware");
    private readonly EndpointStages _endpoints = new();

    public PipelineInstrumentation(IOptions<FlowScopeOptions> options, ILoggerFactory loggerFactory, RequestMetrics metrics, FaultInjector? faults = null, Redactor? redactor = null)
    {
        var value = options.Value;
        _faults = faults is { Enabled: true } ? faults : null;
        Enabled = value.Enabled && value.CaptureMiddleware;
        Settings = new RequestCaptureSettings(value.DashboardPath, value.MaxEventsPerSpan, metrics, redactor);
        _logger = loggerFactory.CreateLogger("FlowScope.Embedded.Pipeline");
    }

    public bool Enabled { get; }

    public RequestCaptureSettings Settings { get; }

    /// <summary>Gets the stages defined so far (every middleware of the pipelines built), for the fault targets.</summary>
    public IReadOnlyList<StageDefinition> DefinedStages
    {
        get
        {
            lock (_defined)
            {
                return [.. _defined];
            }
        }
    }

    /// <summary>Called by <c>UseFlowScope</c> on a <see cref="WebApplication"/>.</summary>
    public void Register(WebApplication application)
    {
        lock (_applications)
        {
            if (!_applications.Contains(application))
            {
                _applications.Add(application);
            }
        }
    }

    /// <summary>Wraps the middleware already registered on each <see cref="WebApplication"/> that called <c>UseFlowScope</c>.</summary>
    public void InstrumentApplications()
    {
        lock (_applications)
        {
            foreach (var application in _applications)
            {
                try
                {
                    var components = Components(GetApplicationBuilder(application));
                    for (var i = 0; i < components.Count; i++)
                    {
                        components[i] = Wrap(components[i]);
                    }
                }
                catch (Exception ex) when (ex is MissingMemberException or InvalidCastException)
                {
                    Log.PipelineNotInstrumented(_logger, ex);
                }
            }

            _applications.Clear();
        }
    }

    public Func<RequestDelegate, RequestDelegate> Wrap(Func<RequestDelegate, RequestDelegate> component)
    {
        if (component.Target is WrappedComponent)
        {
            return component;
        }

        return new WrappedComponent(this, component).Build;
    }

    private RequestDelegate Instrument(StageDefinition stage, RequestDelegate inner)
    {
        var settings = Settings;
        var isEndpoint = stage.Component == SpanComponents.Endpoint;
        var unmatched = _unmatchedEndpoint;
        var endpoints = _endpoints;
        var faults = _faults; // null unless fault injection is enabled
        // Hidden from stack traces: an exception that passes through this wrapper is the app's, and its stack trace
        // shows the app's frames only.
        return [StackTraceHidden] (context) =>
        {
            var info = HttpRequestInfo.ForRunning(context, settings);
            if (info is null)
            {
                return inner(context);
            }

            int index;
            EndpointStage? target = null;
            var begun = 0L;
            if (isEndpoint)
            {
                var endpoint = context.GetEndpoint();
                if (endpoint is null)
                {
                    index = info.BeginStage(unmatched);
                }
                else
                {
                    target = endpoints.Get(endpoint, stage);
                    info.EndpointEntry = target;
                    begun = Stopwatch.GetTimestamp();
                    index = info.BeginStage(target.Definition, begun);
                }
            }
            else
            {
                index = info.BeginStage(stage);
            }

            var fault = faults is { IsActive: true } ? StageFaults.Match(faults, stage, isEndpoint, context) : null;

            // An MVC action's endpoint begins the controller stage too, at the same moment (see MvcStageFilter). With
            // an injected fault it begins after the injected delay, inside the fault's run.
            var controller = fault is null && target?.Controller is { } definition && index < 62
                ? BeginController(info, target, definition, begun)
                : -1;

            Task task;
            var running = HttpRequestInfo.Run(context, info);
            try
            {
                task = fault is not null
                    ? StageFaults.RunAsync(fault.Value, info, index, inner, context, faults!.Time, target)
                    : inner(context);
            }
            catch (Exception ex)
            {
                EndStages(info, controller, index, ex);
                throw;
            }
            finally
            {
                running.Dispose();
            }

            if (task.IsCompletedSuccessfully)
            {
                EndStages(info, controller, index, null);
                return task;
            }

            if (controller < 0 && ReferenceEquals(task, t_awaitedTask) && ReferenceEquals(info, t_awaitedInfo)
                && info.ParentOfStage(t_awaitedIndex) == index && info.TryJoinChild(index))
            {
                // The component passed on the task of the stage nested in it: this stage ends when that one does, from
                // its completion, so no task of its own is needed. The next enclosing stage may join this one in turn.
                t_awaitedIndex = index;
                if (task.IsCompleted && info.TryClaimJoined(index))
                {
                    // It completed before the mark could be seen there: end it here.
                    info.EndStage(index, task.IsFaulted ? task.Exception!.InnerException : task.IsCanceled ? new TaskCanceledException(task) : null);
                }

                return task;
            }

            // The controller stage is the one awaited; the endpoint's stage joins it (ends with it, same reading).
            var awaited = controller >= 0 && info.TryJoinChild(index)
                ? StageCompletion.Await(task, info, controller)
                : StageCompletion.Await(task, info, index);
            t_awaitedTask = awaited;
            t_awaitedInfo = info;
            t_awaitedIndex = index;
            return awaited;
        };
    }

    /// <summary>Begins an MVC action's controller stage inside its endpoint's stage (index below 62, so it can be joined).</summary>
    internal static int BeginController(HttpRequestInfo info, EndpointStage target, StageDefinition definition, long timestamp)
    {
        var controller = info.BeginStage(definition, timestamp);
        info.Mvc.Controller = controller;
        info.Mvc.Method = target.Method;
        return controller;
    }

    /// <summary>Ends a stage and, first, the controller stage nested in it (when there is one), with one clock reading.</summary>
    private static void EndStages(HttpRequestInfo info, int controller, int index, Exception? exception)
    {
        var now = Stopwatch.GetTimestamp();
        if (controller >= 0)
        {
            info.EndStage(controller, exception, now);
        }

        info.EndStage(index, exception, now);
    }

    // The last stage on this thread that had to await its component's task: a stage enclosing it whose component
    // returns that same task joins it instead of awaiting again (most middleware just return next(context)).
    [ThreadStatic]
    private static Task? t_awaitedTask;
    [ThreadStatic]
    private static HttpRequestInfo? t_awaitedInfo;
    [ThreadStatic]
    private static int t_awaitedIndex;

    [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "get_ApplicationBuilder")]
    private static extern ApplicationBuilder GetApplicationBuilder(WebApplication application);

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_components")]
    private static extern ref List<Func<RequestDelegate, RequestDelegate>> Components(ApplicationBuilder builder);

    /// <summary>A middleware factory that names and times the middleware it builds.</summary>
    private sealed class WrappedComponent(PipelineInstrumentation owner, Func<RequestDelegate, RequestDelegate> component)
    {
        public RequestDelegate Build(RequestDelegate next)
        {
            var built = component(next);
            var stage = owner._names.Define(component, built);
            if (stage is null)
            {
                return built;
            }

            lock (owner._defined)
            {
                owner._defined.Add(stage);
            }

            return owner.Instrument(stage, built);
        }
    }
}

/// <summary>Hands <c>Configure</c> a builder whose middleware are timed.</summary>
internal sealed class InstrumentingApplicationBuilder(IApplicationBuilder inner, PipelineInstrumentation instrumentation) : IApplicationBuilder
{
    public IServiceProvider ApplicationServices
    {
        get => inner.ApplicationServices;
        set => inner.ApplicationServices = value;
    }

    public IFeatureCollection ServerFeatures => inner.ServerFeatures;

    public IDictionary<string, object?> Properties => inner.Properties;

    public IApplicationBuilder Use(Func<RequestDelegate, RequestDelegate> middleware)
    {
        inner.Use(instrumentation.Wrap(middleware));
        return this;
    }

    public IApplicationBuilder New() => new InstrumentingApplicationBuilder(inner.New(), instrumentation);

    /// <summary>A branch whose middleware are not timed (FlowScope's own dashboard).</summary>
    public IApplicationBuilder NewUninstrumented() => inner.New();

    public RequestDelegate Build() => inner.Build();
}
