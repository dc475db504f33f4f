using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace FlowScope.Embedded.Capture;

/// <summary>
/// What FlowScope's request middleware learns about a request, attached to ASP.NET Core's request activity as a
/// custom property. Custom properties are never exported, so an app's OpenTelemetry output stays exactly as it was.
/// </summary>
internal sealed class HttpRequestInfo
{
    private const string PropertyName = "FlowScope.HttpRequestInfo";

    /// <summary>Marks a request that must not be recorded (FlowScope's own dashboard traffic).</summary>
    internal static readonly object Ignored = new();

    private HttpContext? _context;

    private HttpRequestInfo(HttpContext context)
    {
        _context = context;
        Method = context.Request.Method;
        Path = context.Request.PathBase.HasValue ? context.Request.PathBase.Add(context.Request.Path).Value ?? "/" : context.Request.Path.Value ?? "/";
        Scheme = context.Request.Scheme;
    }

    public string Method { get; }

    public string Path { get; }

    public string Scheme { get; }

    public string? Route { get; private set; }

    public int StatusCode { get; private set; }

    public Exception? Exception { get; set; }

    public static HttpRequestInfo Attach(Activity activity, HttpContext context)
    {
        var info = new HttpRequestInfo(context);
        activity.SetCustomProperty(PropertyName, info);
        return info;
    }

    public static void MarkIgnored(Activity activity) => activity.SetCustomProperty(PropertyName, Ignored);

    public static object? Get(Activity activity) => activity.GetCustomProperty(PropertyName);

    /// <summary>
    /// Reads the outcome while the request's <see cref="HttpContext"/> is still valid: ASP.NET Core stops the
    /// activity before it recycles the context, and the listener calls this synchronously from that stop.
    /// </summary>
    public void Complete()
    {
        var context = _context;
        if (context is null)
        {
            return;
        }

        _context = null;
        StatusCode = context.Response.StatusCode;
        Route = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText;
    }
}
