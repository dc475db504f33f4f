using FlowScope.Embedded.Capture;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace FlowScope.Embedded.Dashboard;

/// <summary>
/// Runs before every dashboard handler: keeps the request and everything it does out of the captured data and out
/// of the app's telemetry (<see cref="DashboardRequests.MarkOwn"/>; normally done already by
/// <see cref="DashboardShieldMiddleware"/>), decides access (<see cref="DashboardAccess"/>), refuses cross-site
/// browser requests to the API and sets the security headers.
/// </summary>
internal static class DashboardGuard
{
    internal const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
        "font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    /// <summary>Guards a page or an asset: browsers may open them from anywhere (a link, a bookmark).</summary>
    public static RequestDelegate Page(RequestDelegate handler) => context => RunAsync(context, handler, api: false);

    /// <summary>Guards an API endpoint (the live stream and the operator API included): the dashboard's own pages only.</summary>
    public static RequestDelegate Api(RequestDelegate handler) => context => RunAsync(context, handler, api: true);

    private static async Task RunAsync(HttpContext context, RequestDelegate handler, bool api)
    {
        DashboardRequests.MarkOwn(context);

        // Inside this async method: the suppression covers the handler, and cannot flow back into the server's loop.
        CaptureSuppression.SuppressCurrentFlow();

        var access = context.RequestServices.GetRequiredService<DashboardAccess>();
        var decision = access.Decide(context);
        if (decision == DashboardAccess.Decision.NotFound)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound; // as if nothing were there
            return;
        }

        SetSecurityHeaders(context.Response);
        switch (decision)
        {
            case DashboardAccess.Decision.Unauthorized:
                await DashboardEndpoints.WriteProblemAsync(context, StatusCodes.Status401Unauthorized, "Access token required", "Open the FlowScope access link the app logged at start.", null).ConfigureAwait(false);
                return;
            case DashboardAccess.Decision.RedirectWithCookie:
                access.SetCookieAndRedirect(context);
                return;
            case DashboardAccess.Decision.HostNotAllowed:
                await DashboardEndpoints.WriteProblemAsync(
                    context,
                    StatusCodes.Status421MisdirectedRequest,
                    "Host not allowed",
                    $"The FlowScope dashboard does not answer to the host name '{context.Request.Host.Host}'. Open it through localhost or 127.0.0.1, or add the name to FlowScope:DashboardAllowedHosts.",
                    null).ConfigureAwait(false);
                return;
        }

        if (api && IsCrossSite(context.Request))
        {
            await DashboardEndpoints.WriteProblemAsync(
                context,
                StatusCodes.Status403Forbidden,
                "Cross-site request refused",
                "The FlowScope API answers the dashboard's own pages only (Sec-Fetch-Site: same-origin) and requests typed or bookmarked by the user.",
                null).ConfigureAwait(false);
            return;
        }

        await handler(context).ConfigureAwait(false);
    }

    /// <summary>The headers every dashboard response carries, refusals included.</summary>
    internal static void SetSecurityHeaders(HttpResponse response)
    {
        var headers = response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        headers["Cross-Origin-Resource-Policy"] = "same-origin";
    }

    /// <summary>
    /// Whether a browser says (Fetch Metadata) that the request comes from a page of another origin: another site
    /// (<c>cross-site</c>) or another origin of the same site (<c>same-site</c>, such as another app on localhost).
    /// Requests without the header (other clients, older browsers) and those the user made (<c>none</c>) pass.
    /// </summary>
    internal static bool IsCrossSite(HttpRequest request)
    {
        var site = request.Headers["Sec-Fetch-Site"];
        if (site.Count == 0)
        {
            return false;
        }

        var value = site.ToString();
        return !string.Equals(value, "same-origin", StringComparison.OrdinalIgnoreCase)
            && !string.Equals(value, "none", StringComparison.OrdinalIgnoreCase);
    }
}
