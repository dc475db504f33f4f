using FlowScope.Embedded;
using FlowScope.Embedded.Dashboard;
using FlowScope.Embedded.Internal;
using FlowScope.Embedded.Mcp.Internal;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps FlowScope's MCP (Model Context Protocol) endpoint.</summary>
public static class FlowScopeMcpEndpointRouteBuilderExtensions
{
    /// <summary>The path of the MCP endpoint under <see cref="FlowScopeOptions.DashboardPath"/>.</summary>
    internal const string McpSubPath = "/mcp";

    /// <summary>
    /// Serves FlowScope's MCP endpoint over streamable HTTP at <c>{DashboardPath}/mcp</c> (by default
    /// <c>/_flowscope/mcp</c>): tools a coding agent calls to list and read the app's traces, find errors, slow traces
    /// and spans, N+1 queries, and read the metrics. Access follows the dashboard's rules: loopback callers naming a
    /// loopback or allowed host only, or <see cref="FlowScopeOptions.DashboardAuthorizationPolicy"/> when one is set;
    /// cross-site browser requests and CORS preflights are refused. The endpoint runs an MCP server of its own: tools
    /// the app registers with <c>AddMcpServer()</c> are not served here, and FlowScope's tools are not added to the
    /// app's own MCP server. When FlowScope is disabled nothing is mapped.
    /// </summary>
    /// <param name="endpoints">The endpoint route builder (the <c>WebApplication</c>).</param>
    /// <returns>A builder to add further conventions to the MCP endpoints.</returns>
    /// <exception cref="InvalidOperationException"><c>AddFlowScope()</c> was not called.</exception>
    public static IEndpointConventionBuilder MapFlowScopeMcp(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var services = endpoints.ServiceProvider;
        if (services.GetService<FlowScopeMarker>() is null)
        {
            throw new InvalidOperationException(FlowScopeMarker.MissingServicesMessage);
        }

        var options = services.GetRequiredService<IOptions<FlowScopeOptions>>().Value;
        if (!options.Enabled)
        {
            return NoEndpoints.Instance;
        }

        var pattern = options.DashboardPath.TrimEnd('/') + McpSubPath;

        // UseFlowScope's dashboard pipeline takes every request under the dashboard path: this one is left to the
        // app's endpoints. It stays a dashboard request (kept out of the captured data, CORS-free, shielded).
        services.GetRequiredService<DashboardRequests>().LeaveToApp(McpSubPath);

        var builder = endpoints.MapGroup(pattern);
        McpServerHost.Create(services).Map(builder);

        // The server is stateless: it answers POST only. Other methods are answered here, so they never reach an
        // app's fallback endpoint (a single-page app's index.html, say).
        builder.MapMethods("/", [HttpMethods.Get, HttpMethods.Delete], static context =>
        {
            context.Response.StatusCode = StatusCodes.Status405MethodNotAllowed;
            context.Response.Headers.Allow = HttpMethods.Post;
            return Task.CompletedTask;
        }).WithDisplayName("FlowScope MCP: POST only");

        // Every MCP endpoint runs behind the dashboard's guard: access decision, host check, Fetch Metadata check.
        ((IEndpointConventionBuilder)builder).Add(endpoint =>
        {
            if (endpoint.RequestDelegate is { } handler)
            {
                endpoint.RequestDelegate = DashboardGuard.Api(handler);
            }
        });
        builder.ExcludeFromDescription();
        builder.DisableHttpMetrics();
        if (options.DashboardAuthorizationPolicy is { } policy)
        {
            builder.RequireAuthorization(policy);
        }

        return builder;
    }

    private sealed class NoEndpoints : IEndpointConventionBuilder
    {
        public static readonly NoEndpoints Instance = new();

        public void Add(Action<EndpointBuilder> convention)
        {
        }
    }
}
