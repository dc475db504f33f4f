using System.Diagnostics;

namespace FlowScope.Samples.Messenger.Infrastructure;

/// <summary>
/// Gives every request an id: the caller's <c>X-Request-Id</c> when it is short and plain, a new one otherwise.
/// The id becomes <see cref="HttpContext.TraceIdentifier"/> (so problem details carry it), a response header, a
/// log scope and an attribute of the request's span.
/// </summary>
internal sealed partial class RequestIdMiddleware(RequestDelegate next, ILogger<RequestIdMiddleware> logger)
{
    public const string HeaderName = "X-Request-Id";
    private const int MaxLength = 64;

    public async Task InvokeAsync(HttpContext context)
    {
        var id = context.Request.Headers[HeaderName].ToString();
        if (!IsAcceptable(id))
        {
            id = Guid.CreateVersion7().ToString("N");
        }

        context.TraceIdentifier = id;
        context.Response.Headers[HeaderName] = id;
        Activity.Current?.SetTag("messenger.request_id", id);
        using (logger.BeginScope(new Dictionary<string, object> { ["RequestId"] = id }))
        {
            await next(context);
        }
    }

    private static bool IsAcceptable(string id)
    {
        if (id.Length is 0 or > MaxLength)
        {
            return false;
        }

        foreach (var c in id)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
            {
                return false;
            }
        }

        return true;
    }
}
