using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using FlowScope.Embedded.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.SignalR;

namespace FlowScope.Embedded.Instrumentation.Pipeline;

/// <summary>
/// What FlowScope needs to know about an endpoint to name its requests: its route, the stage name the flow map shows
/// (HTTP method and route; for gRPC the service and method; for SignalR the hub), and whether a request to it is a
/// long-lived connection. Worked out once per endpoint; gRPC metadata is read by name, without a reference to gRPC.
/// </summary>
internal sealed class EndpointTraits
{
    private const string GrpcMetadataType = "Grpc.AspNetCore.Server.GrpcMethodMetadata";

    private static readonly ConditionalWeakTable<Endpoint, EndpointTraits> s_traits = new();

    private EndpointTraits(Endpoint endpoint)
    {
        var route = (endpoint as RouteEndpoint)?.RoutePattern.RawText;
        Route = route is null ? null : route.Length == 0 ? "/" : route;
        Component = SpanComponents.Endpoint;

        var hub = endpoint.Metadata.GetMetadata<HubMetadata>();
        if (hub is not null)
        {
            Component = SpanComponents.SignalR;
            var negotiate = endpoint.Metadata.GetMetadata<NegotiateMetadata>() is not null;
            StageName = negotiate ? hub.HubType.Name + " negotiate" : hub.HubType.Name;
            SignalRConnection = !negotiate;
            return;
        }

        if (ReadGrpc(endpoint) is { } grpc)
        {
            Component = SpanComponents.Grpc;
            RpcService = grpc.Service;
            RpcMethod = grpc.Method;
            StageName = grpc.Service + "/" + grpc.Method;
            Connection = grpc.Streaming ? "grpc-stream" : null;
            return;
        }

        var methods = endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods;
        var target = Route ?? endpoint.DisplayName;
        StageName = methods is { Count: > 0 } && target is not null ? string.Join(',', methods) + " " + target : target;
    }

    /// <summary>The endpoint's route template (<c>/</c> for an empty one), or <see langword="null"/> when it has none.</summary>
    public string? Route { get; }

    /// <summary>The component of the endpoint's stage: <c>endpoint</c>, <c>grpc</c> or <c>signalr</c>.</summary>
    public string Component { get; }

    /// <summary>
    /// The endpoint's stage name: "GET /todos/" (methods and route, so each handler of a route is its own map node),
    /// "inventory.Stock/Check" for a gRPC method, "ChatHub" for a hub; <see langword="null"/> when nothing names it.
    /// </summary>
    public string? StageName { get; }

    /// <summary>The connection kind of every request to this endpoint (<c>grpc-stream</c>), if it is one.</summary>
    public string? Connection { get; }

    /// <summary>Whether this is a SignalR hub's connection endpoint (a GET there holds the connection open).</summary>
    public bool SignalRConnection { get; }

    /// <summary>The full gRPC service name ("inventory.Stock") of a gRPC method endpoint.</summary>
    public string? RpcService { get; }

    /// <summary>The gRPC method name ("Check") of a gRPC method endpoint.</summary>
    public string? RpcMethod { get; }

    /// <summary>The traits of <paramref name="endpoint"/>, worked out on its first request.</summary>
    public static EndpointTraits Of(Endpoint endpoint) => s_traits.GetValue(endpoint, static e => new EndpointTraits(e));

    /// <summary>The connection kind of a request to this endpoint with <paramref name="method"/>, if it is long-lived.</summary>
    public string? ConnectionFor(string method) => SignalRConnection && HttpMethods.IsGet(method) ? "signalr" : Connection;

    [UnconditionalSuppressMessage("Trimming", "IL2075", Justification = "Best effort: without the gRPC metadata's properties the endpoint is named by its route.")]
    private static (string Service, string Method, bool Streaming)? ReadGrpc(Endpoint endpoint)
    {
        foreach (var item in endpoint.Metadata)
        {
            if (item.GetType().FullName != GrpcMetadataType)
            {
                continue;
            }

            try
            {
                var method = item.GetType().GetProperty("Method")?.GetValue(item);
                var type = method?.GetType();
                if (type?.GetProperty("ServiceName")?.GetValue(method) is string service && type.GetProperty("Name")?.GetValue(method) is string name)
                {
                    var kind = type.GetProperty("Type")?.GetValue(method)?.ToString();
                    return (service, name, kind is not null && kind != "Unary");
                }
            }
            catch (Exception ex) when (ex is System.Reflection.TargetInvocationException or MemberAccessException or InvalidOperationException)
            {
                return null;
            }
        }

        return null;
    }
}
