using System.Diagnostics;
using FlowScope.Embedded.Capture;

namespace FlowScope.Embedded.Benchmarks;

/// <summary>
/// Creates real, stopped activities on named sources (the converter reads the source name and kind). Owns a
/// listener that samples everything on the benchmark's sources; create it only in processes that measure
/// conversion or memory, never in the listener-overhead benchmarks.
/// </summary>
internal sealed class ActivityFactory : IDisposable
{
    private readonly ActivitySource _aspNetCore = new(FlowScopeSources.AspNetCore);
    private readonly ActivitySource _middleware = new(FlowScopeSources.Prefix + ".Middleware");
    private readonly ActivitySource _user = new(Fixtures.UserSourceName);
    private readonly ActivityListener _listener;

    public ActivityFactory()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = s => ReferenceEquals(s, _aspNetCore) || ReferenceEquals(s, _middleware) || ReferenceEquals(s, _user),
            Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    /// <summary>
    /// An ASP.NET Core request span as FlowScope sees it on .NET 10 (see <c>-- probe</c>): the hosting activity with
    /// no tags of its own and FlowScope's <see cref="HttpRequestInfo"/> attached and completed; optionally with
    /// four internal middleware children carrying two tags each. Returned in stop order (children first).
    /// </summary>
    public List<Activity> NewRequestTrace(int middlewareSpans, string path = "/rooms/42/messages")
    {
        var stopped = new List<Activity>(middlewareSpans + 1);
        var previous = Activity.Current;
        Activity.Current = null;
        var root = _aspNetCore.StartActivity(FlowScopeSources.HostingOperationName, ActivityKind.Server)!;
        var context = Fixtures.NewHttpContext(path: path);
        var info = HttpRequestInfo.Attach(root, context);
        for (var i = 0; i < middlewareSpans; i++)
        {
            var child = _middleware.StartActivity(MiddlewareName(i), ActivityKind.Internal)!;
            child.SetTag(SpanConverter.ComponentAttribute, "middleware");
            child.SetTag("flowscope.middleware.type", MiddlewareTypeName(i));
            child.SetTag("flowscope.stage", "pipeline");
            child.Stop();
            stopped.Add(child);
        }

        root.Stop();
        info.Complete();
        stopped.Add(root);
        Activity.Current = previous;
        return stopped;
    }

    /// <summary>A server span on a user source with eight HTTP semantic-convention tags.</summary>
    public Activity NewServerSpan8Tags()
    {
        var previous = Activity.Current;
        Activity.Current = null;
        var activity = _user.StartActivity("GET /rooms/{roomId}/messages", ActivityKind.Server)!;
        Fixtures.AddServerTags(activity, "/rooms/42/messages", 200);
        activity.Stop();
        Activity.Current = previous;
        return activity;
    }

    /// <summary>A trace of <paramref name="spans"/> user-source spans (one server root, internal children), each with eight tags.</summary>
    public List<Activity> NewTrace8Tags(int spans, string path)
    {
        var stopped = new List<Activity>(spans);
        var previous = Activity.Current;
        Activity.Current = null;
        var root = _user.StartActivity("GET /rooms/{roomId}/messages", ActivityKind.Server)!;
        Fixtures.AddServerTags(root, path, 200);
        for (var i = 1; i < spans; i++)
        {
            var child = _user.StartActivity(MiddlewareName(i - 1), ActivityKind.Internal)!;
            Fixtures.AddServerTags(child, path, 200);
            child.Stop();
            stopped.Add(child);
        }

        root.Stop();
        stopped.Add(root);
        Activity.Current = previous;
        return stopped;
    }

    // Constant strings, as an instrumentation would use (a type's cached name), so no per-span string is made here.
    private static string MiddlewareTypeName(int i) => (i % 4) switch
    {
        0 => "Microsoft.AspNetCore.Diagnostics.ExceptionHandlerMiddleware",
        1 => "Microsoft.AspNetCore.Routing.EndpointRoutingMiddleware",
        2 => "Microsoft.AspNetCore.Authentication.AuthenticationMiddleware",
        _ => "Microsoft.AspNetCore.Authorization.AuthorizationMiddleware",
    };

    private static string MiddlewareName(int i) => (i % 4) switch
    {
        0 => "ExceptionHandlerMiddleware",
        1 => "RoutingMiddleware",
        2 => "AuthenticationMiddleware",
        _ => "AuthorizationMiddleware",
    };

    public void Dispose()
    {
        _listener.Dispose();
        _aspNetCore.Dispose();
        _middleware.Dispose();
        _user.Dispose();
    }
}
