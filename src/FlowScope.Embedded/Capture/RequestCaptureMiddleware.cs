using FlowScope.Embedded.Internal;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace FlowScope.Embedded.Capture;

/// <summary>
/// Added by <c>UseFlowScope</c>. Attaches what ASP.NET Core's request activity lacks (method, path, route, status,
/// unhandled exception) as a custom property, and marks FlowScope's own dashboard requests so they are never
/// recorded. Costs one small allocation per request and no I/O.
/// </summary>
internal sealed class RequestCaptureMiddleware
{
    private readonly RequestDelegate _next;
    private readonly PathString _dashboardPath;

    public RequestCaptureMiddleware(RequestDelegate next, PathString dashboardPath)
    {
        _next = next;
        _dashboardPath = dashboardPath;
    }

    public Task InvokeAsync(HttpContext context)
    {
        var activity = context.Features.Get<IHttpActivityFeature>()?.Activity;
        if (activity is null || !activity.IsAllDataRequested)
        {
            return _next(context);
        }

        if (context.Request.Path.StartsWithSegments(_dashboardPath))
        {
            HttpRequestInfo.MarkIgnored(activity);
            return _next(context);
        }

        var info = HttpRequestInfo.Attach(activity, context);
        return InvokeCoreAsync(context, info);
    }

    private async Task InvokeCoreAsync(HttpContext context, HttpRequestInfo info)
    {
        try
        {
            await _next(context).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            info.Exception = ex;
            throw;
        }
    }
}
