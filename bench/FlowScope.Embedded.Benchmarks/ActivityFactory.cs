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
    private readonly ActivitySource _user = new(Fixtures.UserSourceName);
    private readonly ActivityListener _listener;

    public ActivityFactory()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = s => ReferenceEquals(s, _aspNetCore) || ReferenceEquals(s, _user),
            Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    /// <summary>
    /// An ASP.NET Core request as FlowScope records it: the hosting activity (no tags of its own on .NET 10, see
    /// <c>-- probe</c>) carrying FlowScope's <see cref="HttpRequestInfo"/> with <paramref name="stages"/> nested
    /// pipeline stages, completed as the listener does on stop. The converter turns it into 1 + stages records.
    /// </summary>
    public Activity NewRequest(int stages, string path = "/rooms/42/messages")
    {
        var previous = Activity.Current;
        Activity.Current = null;
        var root = _aspNetCore.StartActivity(FlowScopeSources.HostingOperationName, ActivityKind.Server)!;
        var context = Fixtures.NewHttpContext(path: path);
        Fixtures.SetActivity(context, root);
        var info = HttpRequestInfo.For(context, Fixtures.CaptureSettings())!;
        var indexes = new int[stages];
        for (var i = 0; i < stages; i++)
        {
            indexes[i] = info.BeginStage(Fixtures.Stages[i % Fixtures.Stages.Length]);
        }

        for (var i = stages - 1; i >= 0; i--)
        {
            info.EndStage(indexes[i], null);
        }

        root.Stop();
        info.Complete();
        Activity.Current = previous;
        return root;
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
        _user.Dispose();
    }
}
