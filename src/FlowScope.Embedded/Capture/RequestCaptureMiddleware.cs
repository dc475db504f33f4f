using Microsoft.AspNetCore.Http;

namespace FlowScope.Embedded.Capture;

/// <summary>
/// Added by <c>UseFlowScope</c>. Makes sure the request carries FlowScope's <see cref="HttpRequestInfo"/> (the
/// pipeline stages may already have attached it) and notes an exception that leaves the pipeline unhandled.
/// Marks FlowScope's own dashboard requests so they are never recorded. No I/O.
/// </summary>
internal sealed class RequestCaptureMiddleware
{
    private readonly RequestDelegate _next;
    private readonly RequestCaptureSettings _settings;

    public RequestCaptureMiddleware(RequestDelegate next, RequestCaptureSettings settings)
    {
        _next = next;
        _settings = settings;
    }

    public Task InvokeAsync(HttpContext context)
    {
        var info = HttpRequestInfo.For(context, _settings);
        return info is null ? _next(context) : InvokeCoreAsync(context, info);
    }

    private async Task InvokeCoreAsync(HttpContext context, HttpRequestInfo info)
    {
        try
        {
            await _next(context).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            info.Exception ??= ex;
            throw;
        }
    }
}
