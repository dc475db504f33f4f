using System.Runtime.CompilerServices;
using FlowScope.Embedded.Capture;
using FlowScope.Embedded.Instrumentation.Mvc;
using FlowScope.Embedded.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Abstractions;
using Microsoft.AspNetCore.Routing;

namespace FlowScope.Embedded.Instrumentation.Pipeline;

/// <summary>What the stage of one endpoint is and, for an MVC action, the controller stage it holds.</summary>
internal sealed class EndpointStage
{
    private readonly MvcStageFilter.Description? _action;

    private static readonly StageDefinition s_grpc = new("gRPC method", SpanComponents.Grpc, null);
    private static readonly StageDefinition s_hub = new("SignalR hub", SpanComponents.SignalR, null);

    public EndpointStage(Endpoint endpoint, StageDefinition endpointStage)
    {
        Endpoint = endpoint;
        Base = endpointStage;
        Traits = EndpointTraits.Of(endpoint);
        var name = Traits.StageName;
        Definition = name is null ? endpointStage : Traits.Component switch
        {
            SpanComponents.Grpc => s_grpc.Named(name),
            SpanComponents.SignalR => s_hub.Named(name),
            _ => endpointStage.Named(name, Traits.Route),
        };
        _action = endpoint.Metadata.GetMetadata<ActionDescriptor>() is { } action ? MvcStageFilter.Describe(action) : null;
    }

    public Endpoint Endpoint { get; }

    /// <summary>The endpoint's route, name and connection kind.</summary>
    public EndpointTraits Traits { get; }

    /// <summary>The endpoint middleware's own stage definition, which this one is named from.</summary>
    public StageDefinition Base { get; }

    /// <summary>The endpoint's stage: named by its HTTP methods and route pattern (a gRPC method, a hub: see <see cref="EndpointTraits"/>).</summary>
    public StageDefinition Definition { get; }

    /// <summary>For an MVC action (or page): its controller stage; otherwise <see langword="null"/>.</summary>
    public StageDefinition? Controller => _action?.Controller;

    /// <summary>For an MVC controller action: the action method's stage ("Get()").</summary>
    public StageDefinition? Method => _action?.Method;
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

    /// <summary>The entry of <paramref name="endpoint"/> reached through the endpoint middleware stage <paramref name="endpointStage"/>.</summary>
    public EndpointStage Get(Endpoint endpoint, StageDefinition endpointStage)
    {
        ref var slot = ref _slots[RuntimeHelpers.GetHashCode(endpoint) & (Slots - 1)];
        var entry = Volatile.Read(ref slot);
        if (entry is not null && ReferenceEquals(entry.Endpoint, endpoint) && ReferenceEquals(entry.Base, endpointStage))
        {
            return entry;
        }

        entry = new EndpointStage(endpoint, endpointStage);
        Volatile.Write(ref slot, entry);
        return entry;
    }
}
