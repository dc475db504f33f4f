using FlowScope.Embedded.Capture;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace FlowScope.Embedded.Dashboard;

/// <summary>
/// The first middleware of every pipeline the host builds (FlowScope's startup filter puts it there, before the
/// app's, the host's and other libraries' middleware). It marks dashboard requests as FlowScope's own at once
/// (<see cref="DashboardRequests.MarkOwn"/>), before any of the app's middleware sees them, and refuses CORS
/// preflights to them itself: the app's CORS policy would otherwise answer them. Every other request costs one
/// search of its path.
/// </summary>
internal sealed class DashboardShieldMiddleware(RequestDelegate next, DashboardRequests requests)
{
    [System.Diagnostics.StackTraceHidden] // app requests pass straight through
    public Task InvokeAsync(HttpContext context) =>
        requests.IsDashboardPath(context.Request) ? InvokeOwnAsync(context) : next(context);

    private async Task InvokeOwnAsync(HttpContext context)
    {
        DashboardRequests.MarkOwn(context);

        // Inside this async method: the suppression flows to the rest of the request, never back to the server.
        CaptureSuppression.SuppressCurrentFlow();
        if (IsPreflight(context.Request))
        {
            DashboardGuard.SetSecurityHeaders(context.Response);
            await DashboardEndpoints.WriteProblemAsync(
                context,
                StatusCodes.Status403Forbidden,
                "Cross-origin requests refused",
                "The FlowScope dashboard answers its own pages only; it allows no cross-origin requests.",
                null).ConfigureAwait(false);
            return;
        }

        await next(context).ConfigureAwait(false);
    }

    internal static bool IsPreflight(HttpRequest request) =>
        HttpMethods.IsOptions(request.Method)
        && request.Headers.ContainsKey(HeaderNames.Origin)
        && request.Headers.ContainsKey(HeaderNames.AccessControlRequestMethod);
}
