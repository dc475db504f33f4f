using System.Diagnostics;
using FlowScope.Embedded.Capture;
using FlowScope.Embedded.Instrumentation.Mvc;
using FlowScope.Embedded.Instrumentation.Pipeline;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Controllers;
using Microsoft.AspNetCore.Routing;

namespace FlowScope.Embedded.Faults;

/// <summary>Applies an injected fault to a pipeline stage (a middleware, or the endpoint) of a request.</summary>
internal static class StageFaults
{
    /// <summary>Finds the injection for the middleware or endpoint about to run, if any.</summary>
    public static FaultHit? Match(FaultInjector faults, StageDefinition stage, bool isEndpoint, HttpContext context)
    {
        if (!isEndpoint)
        {
            return faults.TryHit(FaultKind.Middleware, stage.Name, stage.TypeName);
        }

        var endpoint = context.GetEndpoint();
        if (endpoint is null)
        {
            return null;
        }

        var action = endpoint.Metadata.GetMetadata<ControllerActionDescriptor>();
        return faults.TryHit(
            FaultKind.Endpoint,
            (endpoint as RouteEndpoint)?.RoutePattern.RawText ?? string.Empty,
            endpoint.DisplayName,
            action is null ? null : MvcStageFilter.ControllerStageName(action));
    }

    /// <summary>
    /// Marks the stage, waits the injected delay inside it (so the stage's duration shows it), then fails with
    /// <see cref="InjectedFaultException"/> or runs the component. At an MVC action's endpoint the controller stage
    /// begins after the delay, so the delay shows in the endpoint's stage only, as at any other endpoint.
    /// </summary>
    public static async Task RunAsync(FaultHit hit, HttpRequestInfo info, int index, RequestDelegate inner, HttpContext context, TimeProvider time, EndpointStage? endpoint = null)
    {
        info.AddStageAttributes(index, hit.Attributes());
        info.AddEvent(hit.CreateEvent(time.GetUtcNow()));
        if (hit.Delay > TimeSpan.Zero)
        {
            await InjectedDelay.WaitAsync(hit.Delay, time, context.RequestAborted).ConfigureAwait(false);
        }

        if (hit.Fail)
        {
            throw hit.CreateException();
        }

        if (endpoint?.Controller is not { } definition)
        {
            await inner(context).ConfigureAwait(false);
            return;
        }

        var controller = PipelineInstrumentation.BeginController(info, endpoint, definition, Stopwatch.GetTimestamp());
        try
        {
            await inner(context).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            info.EndStage(controller, ex);
            throw;
        }

        info.EndStage(controller, null);
    }
}
