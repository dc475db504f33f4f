namespace FlowScope.Embedded.Internal;

/// <summary>Registered by <c>AddFlowScope</c>; its presence tells <c>UseFlowScope</c>/<c>MapFlowScope</c> the services exist.</summary>
internal sealed class FlowScopeMarker
{
    internal const string MissingServicesMessage =
        "FlowScope's services are not registered. Call builder.Services.AddFlowScope() before app.UseFlowScope() or endpoints.MapFlowScope().";
}
