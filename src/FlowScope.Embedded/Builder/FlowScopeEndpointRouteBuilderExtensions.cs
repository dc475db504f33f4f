using FlowScope.Embedded;
using FlowScope.Embedded.Dashboard;
using FlowScope.Embedded.Internal;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps FlowScope's dashboard and API as endpoints.</summary>
public static class FlowScopeEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps the dashboard and its API under <paramref name="pattern"/> among the app's own endpoints, for apps that
    /// want to apply endpoint conventions to it: chain <c>.RequireAuthorization(...)</c> to open it beyond loopback
    /// under an authorization policy. <c>UseFlowScope()</c> alone already serves the dashboard, from a pipeline of its
    /// own that leaves the app's endpoints untouched. The app's CORS policies never apply to these endpoints, even
    /// with <c>RequireCors</c>. When FlowScope is disabled nothing is mapped.
    /// </summary>
    /// <param name="endpoints">The endpoint route builder.</param>
    /// <param name="pattern">The route prefix; the default is <c>/_flowscope</c>.</param>
    /// <returns>A builder to add conventions (such as authorization) to every dashboard endpoint.</returns>
    /// <exception cref="InvalidOperationException"><c>AddFlowScope()</c> was not called.</exception>
    public static IEndpointConventionBuilder MapFlowScope(this IEndpointRouteBuilder endpoints, string pattern = FlowScopeOptions.DefaultDashboardPath)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(pattern);
        var services = endpoints.ServiceProvider;
        if (services.GetService<FlowScopeMarker>() is null)
        {
            throw new InvalidOperationException(FlowScopeMarker.MissingServicesMessage);
        }

        if (!services.GetRequiredService<IOptions<FlowScopeOptions>>().Value.Enabled)
        {
            return NoEndpoints.Instance;
        }

        services.GetRequiredService<DashboardRequests>().AddPattern(pattern, inGroup: endpoints is RouteGroupBuilder);
        return DashboardEndpoints.Map(endpoints, pattern);
    }

    private sealed class NoEndpoints : IEndpointConventionBuilder
    {
        public static readonly NoEndpoints Instance = new();

        public void Add(Action<EndpointBuilder> convention)
        {
        }
    }
}
