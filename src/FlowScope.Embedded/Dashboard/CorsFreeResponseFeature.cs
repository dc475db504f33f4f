using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace FlowScope.Embedded.Dashboard;

/// <summary>
/// The response of a dashboard request: as the server's, except that no <c>Access-Control-*</c> header can be set on
/// it. The app's CORS middleware (a global policy, a named one, <c>[EnableCors]</c>, <c>RequireCors</c>), or any of
/// its own middleware that adds such headers to every response, therefore never opens the dashboard to another
/// origin, wherever it runs in the pipeline. Filtering when headers are set, rather than removing them when the
/// response starts, is what works: CORS applies its headers in an <c>OnStarting</c> callback, and callbacks run in
/// reverse order of registration.
/// </summary>
internal sealed class CorsFreeResponseFeature : IHttpResponseFeature
{
    private readonly IHttpResponseFeature _inner;
    private CorsFreeHeaders _headers;

    private CorsFreeResponseFeature(IHttpResponseFeature inner)
    {
        _inner = inner;
        _headers = new CorsFreeHeaders(inner.Headers);
    }

    /// <summary>Puts the filter in front of the request's response feature and drops any CORS header already set.</summary>
    public static void Install(HttpContext context)
    {
        var features = context.Features;
        if (features.Get<IHttpResponseFeature>() is not { } inner || inner is CorsFreeResponseFeature)
        {
            return;
        }

        if (!inner.HasStarted)
        {
            CorsFreeHeaders.RemoveCorsHeaders(inner.Headers);
        }

        features.Set<IHttpResponseFeature>(new CorsFreeResponseFeature(inner));
    }

    /// <summary>Whether a header name is one of the CORS response headers.</summary>
    public static bool IsCorsHeader(string name) => name.StartsWith("Access-Control-", StringComparison.OrdinalIgnoreCase);

    public int StatusCode
    {
        get => _inner.StatusCode;
        set => _inner.StatusCode = value;
    }

    public string? ReasonPhrase
    {
        get => _inner.ReasonPhrase;
        set => _inner.ReasonPhrase = value;
    }

    public IHeaderDictionary Headers
    {
        get => _headers;
        set
        {
            _inner.Headers = value is CorsFreeHeaders filtered ? filtered.Inner : value;
            CorsFreeHeaders.RemoveCorsHeaders(_inner.Headers);
            _headers = new CorsFreeHeaders(_inner.Headers);
        }
    }

#pragma warning disable CS0618 // IHttpResponseFeature.Body is obsolete but still part of the interface
    public Stream Body
    {
        get => _inner.Body;
        set => _inner.Body = value;
    }
#pragma warning restore CS0618

    public bool HasStarted => _inner.HasStarted;

    public void OnStarting(Func<object, Task> callback, object state) => _inner.OnStarting(callback, state);

    public void OnCompleted(Func<object, Task> callback, object state) => _inner.OnCompleted(callback, state);
}
