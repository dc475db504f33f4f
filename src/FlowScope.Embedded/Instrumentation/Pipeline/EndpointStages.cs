using System.Runtime.CompilerServices;
using FlowScope.Embedded.Capture;
using FlowScope.Embedded.Instrumentation.Mvc;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Abstractions;
using Microsoft.AspNetCore.Routing;

namespace FlowScope.Embedded.Instrumentation.Pipeline;

/// <summary>What the stage of one endpoint is called and, for an MVC action, the controller stage it holds.</summary>
internal sealed class EndpointStage
{
    private readonly MvcStageFilter.Description? _action;

    public EndpointStage(Endpoint endpoint, string fallbackName)
    {
        Endpoint = endpoint;
        Name = (endpoint as RouteEndpoint)?.RoutePattern.RawText ?? endpoint.DisplayName ?? fallbackName;
        _action = endpoint.Metadata.GetMetadata<ActionDescriptor>() is { } action ? MvcStageFilter.Describe(action) : null;
    }

    public Endpoint Endpoint { get; }

    /// <summary>The endpoint stage's name: the route pattern, else the endpoint's display name.</summary>
    public string Name { get; }

    /// <summary>For an MVC action (or page): its controller stage; otherwise <see langword="null"/>.</summary>
    public StageDefinition? Controller => _action?.Controller;

    /// <summary>For an MVC controller action: the action method's stage name ("Get()").</summary>
    public string? MethodName => _action?.MethodName;
}

/// <summary>
/// The <see cref="EndpointStage"/> of each endpoint, worked out once and kept in a small direct-mapped table keyed by
/// the endpoint object: a request looks its endpoint up with one hash and one reference comparison instead of
/// reading the endpoint's metadata. Bounded (64 entries; a colliding endpoint replaces the entry, which is then
/// rebuilt on its next request); entries are immutable and replaced whole, so readers need no lock.
/// </summary>
internal sealed class EndpointStages
{
    private const int Slots = 64;
    private readonly EndpointStage?[] _slots = new EndpointStage?[Slots];

    /// <summary>The entry of <paramref name="endpoint"/>; <paramref name="fallbackName"/> names an endpoint with neither route pattern nor display name.</summary>
    public EndpointStage Get(Endpoint endpoint, string fallbackName)
    {
        ref var slot = ref _slots[RuntimeHelpers.GetHashCode(endpoint) & (Slots - 1)];
        var entry = Volatile.Read(ref slot);
        if (entry is not null && ReferenceEquals(entry.Endpoint, endpoint))
        {
            return entry;
        }

        entry = new EndpointStage(endpoint, fallbackName);
        Volatile.Write(ref slot, entry);
        return entry;
    }
}
