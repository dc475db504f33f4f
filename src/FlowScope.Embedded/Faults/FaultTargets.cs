using FlowScope.Embedded.Instrumentation.Mvc;
using FlowScope.Embedded.Instrumentation.Pipeline;
using FlowScope.Embedded.Queues.Internal;
using FlowScope.Embedded.Storage;
using FlowScope.Embedded.Workers.Internal;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Controllers;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace FlowScope.Embedded.Faults;

/// <summary>
/// The components a fault can be injected into, named as the dashboard shows them: middleware by type name,
/// controller actions as <c>Controller.Method</c>, other endpoints by route pattern, queues and workers by name.
/// </summary>
internal static class FaultTargets
{
    internal readonly record struct Target(string Kind, string Name);

    public static IReadOnlyList<Target> List(IServiceProvider services)
    {
        var targets = new List<Target>();
        var seen = new HashSet<(string, string)>();
        void Add(string kind, string name)
        {
            if (seen.Add((kind, name.ToUpperInvariant())))
            {
                targets.Add(new Target(kind, name));
            }
        }

        var pipeline = services.GetRequiredService<PipelineInstrumentation>();
        if (pipeline.Enabled)
        {
            // Stages are defined innermost first as a pipeline is built; list them in the order requests pass them.
            foreach (var stage in pipeline.DefinedStages.Reverse())
            {
                if (stage.Component == SpanComponents.Middleware)
                {
                    Add(FaultKind.Middleware, stage.Name);
                }
            }

            if (services.GetService<EndpointDataSource>() is { } endpoints)
            {
                foreach (var endpoint in endpoints.Endpoints)
                {
                    if (EndpointName(endpoint) is { } name)
                    {
                        Add(FaultKind.Endpoint, name);
                    }
                }
            }
        }

        foreach (var queue in services.GetRequiredService<QueueRegistry>().Queues)
        {
            Add(FaultKind.Queue, queue.Name);
        }

        foreach (var worker in services.GetRequiredService<WorkerRegistry>().Snapshot())
        {
            Add(FaultKind.Worker, worker.Name);
        }

        return targets;
    }

    /// <summary>The name an endpoint is listed under, or <see langword="null"/> for FlowScope's own endpoints.</summary>
    internal static string? EndpointName(Endpoint endpoint)
    {
        if (endpoint.DisplayName?.StartsWith("FlowScope ", StringComparison.Ordinal) == true)
        {
            return null;
        }

        if (endpoint.Metadata.GetMetadata<ControllerActionDescriptor>() is { } action)
        {
            return MvcStageFilter.ControllerStageName(action);
        }

        return (endpoint as RouteEndpoint)?.RoutePattern.RawText ?? endpoint.DisplayName;
    }

    public static bool IsKnown(IReadOnlyList<Target> targets, string kind, string name) =>
        targets.Any(t => t.Kind == kind && string.Equals(t.Name, name, StringComparison.OrdinalIgnoreCase));
}
