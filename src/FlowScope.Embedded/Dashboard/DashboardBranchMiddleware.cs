using Microsoft.AspNetCore.Http;

namespace FlowScope.Embedded.Dashboard;

/// <summary>
/// Serves the dashboard in pipelines without endpoint routing at <c>UseFlowScope</c>'s position (Startup-style
/// hosting): requests under the dashboard path go to the dashboard's own routing branch, with the path moved into
/// <c>PathBase</c> as <c>Map</c> does; all others pass on untouched.
/// </summary>
internal sealed class DashboardBranchMiddleware(RequestDelegate next, RequestDelegate dashboard, PathString path)
{
    public async Task InvokeAsync(HttpContext context)
    {
        if (!context.Request.Path.StartsWithSegments(path, out var remaining))
        {
            await next(context).ConfigureAwait(false);
            return;
        }

        var request = context.Request;
        var originalPath = request.Path;
        var originalPathBase = request.PathBase;
        request.PathBase = originalPathBase.Add(path);
        request.Path = remaining;
        try
        {
            await dashboard(context).ConfigureAwait(false);
        }
        finally
        {
            request.PathBase = originalPathBase;
            request.Path = originalPath;
        }
    }
}
