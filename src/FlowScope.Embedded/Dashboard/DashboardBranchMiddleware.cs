using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;

namespace FlowScope.Embedded.Dashboard;

/// <summary>
/// Added by <c>UseFlowScope</c> at its position: requests under the dashboard path go to the dashboard's own
/// pipeline (<see cref="DashboardBranch"/>), with the path moved into <c>PathBase</c> as <c>Map</c> does; all others
/// pass on untouched (all of them when the app maps the dashboard at that path itself with <c>MapFlowScope</c>, to
/// apply its own conventions; and those under a path an add-on maps among the app's endpoints, such as the MCP
/// endpoint, <see cref="DashboardRequests.LeaveToApp"/>). An endpoint the app's routing chose earlier (a catch-all fallback, say) is set aside while
/// the dashboard runs, so its routing matches the dashboard's own endpoints.
/// </summary>
internal sealed class DashboardBranchMiddleware(RequestDelegate next, RequestDelegate dashboard, PathString path, DashboardRequests requests)
{
    [System.Diagnostics.StackTraceHidden] // app requests pass straight through
    public Task InvokeAsync(HttpContext context) =>
        context.Request.Path.StartsWithSegments(path, out var remaining) && !requests.MappedByApp && !requests.IsLeftToApp(remaining)
            ? InvokeDashboardAsync(context, remaining)
            : next(context);

    private async Task InvokeDashboardAsync(HttpContext context, PathString remaining)
    {
        DashboardRequests.MarkOwn(context);
        var request = context.Request;
        var originalPath = request.Path;
        var originalPathBase = request.PathBase;
        var endpoint = context.GetEndpoint();
        var routeValues = context.Features.Get<IRouteValuesFeature>()?.RouteValues;
        request.PathBase = originalPathBase.Add(path);
        request.Path = remaining;
        if (endpoint is not null)
        {
            context.SetEndpoint(null);
            request.RouteValues = [];
        }

        try
        {
            await dashboard(context).ConfigureAwait(false);
        }
        finally
        {
            request.PathBase = originalPathBase;
            request.Path = originalPath;
            if (endpoint is not null)
            {
                context.SetEndpoint(endpoint);
                request.RouteValues = routeValues ?? [];
            }
        }
    }
}
