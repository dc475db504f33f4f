using System.Buffers;
using System.Diagnostics;
using FlowScope.Embedded.Capture;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace FlowScope.Embedded.Dashboard;

/// <summary>
/// Recognises FlowScope's own dashboard requests and marks them as FlowScope's, so none of the app's request
/// machinery treats them as the app's: they are not recorded by FlowScope, not exported by the app's OpenTelemetry
/// pipeline (the request activity is no longer recorded), not counted in its HTTP metrics, not written by its HTTP
/// logging (<see cref="DashboardHttpLoggingInterceptor"/>) and never carry its CORS headers
/// (<see cref="CorsFreeResponseFeature"/>).
/// <para>
/// A request is the dashboard's when its full path (<c>PathBase</c> + <c>Path</c>) holds the dashboard path as whole
/// segments anywhere: <c>/_flowscope/…</c>, but also <c>/tools/_flowscope/…</c> before <c>UsePathBase("/tools")</c>
/// has run, or <c>/ops/_flowscope/…</c> for a dashboard mapped inside <c>app.Map("/ops", …)</c>. Patterns given to
/// <c>MapFlowScope</c> count too.
/// </para>
/// </summary>
internal sealed class DashboardRequests
{
    private readonly Lock _lock = new();
    private readonly string _dashboardPath;
    private string[] _paths;

    // The paths as one vectorised case-insensitive search: one pass over an app request's path finds them all.
    private SearchValues<string> _search;
    private volatile bool _mappedByApp;
    private string[] _leftToApp = [];

    public DashboardRequests(IOptions<FlowScopeOptions> options)
    {
        _dashboardPath = options.Value.DashboardPath.TrimEnd('/');
        _paths = [_dashboardPath];
        _search = SearchValues.Create(_paths, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>
    /// Whether the app maps the dashboard itself at <see cref="FlowScopeOptions.DashboardPath"/>
    /// (<c>MapFlowScope().RequireAuthorization(...)</c>): then <c>UseFlowScope()</c> leaves that path to the app's
    /// endpoints and their conventions.
    /// </summary>
    public bool MappedByApp => _mappedByApp;

    /// <summary>
    /// Notes a path under the dashboard path (such as <c>/mcp</c>) that the app serves with endpoints of its own, mapped
    /// by an add-on package: <c>UseFlowScope()</c>'s dashboard pipeline leaves requests to it to the app's endpoints.
    /// They are still the dashboard's requests (<see cref="IsDashboardPath"/>).
    /// </summary>
    public void LeaveToApp(string subPath)
    {
        var path = "/" + subPath.Trim('/');
        lock (_lock)
        {
            if (!_leftToApp.Contains(path, StringComparer.OrdinalIgnoreCase))
            {
                Volatile.Write(ref _leftToApp, [.. _leftToApp, path]);
            }
        }
    }

    /// <summary>Whether <paramref name="remaining"/> (the path after the dashboard path) is one <see cref="LeaveToApp"/> noted.</summary>
    public bool IsLeftToApp(PathString remaining)
    {
        foreach (var path in Volatile.Read(ref _leftToApp))
        {
            if (remaining.StartsWithSegments(path, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Notes a path <c>MapFlowScope</c> serves the dashboard under (its literal part after any route parameter);
    /// <paramref name="inGroup"/> when mapped in a route group, whose prefix comes before it.
    /// </summary>
    public void AddPattern(string pattern, bool inGroup)
    {
        var literal = pattern.Trim();
        var parameter = literal.LastIndexOf('}');
        if (parameter >= 0)
        {
            literal = literal[(parameter + 1)..];
        }

        literal = "/" + literal.Trim('/');
        if (literal.Length < 2 || literal.Contains('{', StringComparison.Ordinal))
        {
            return; // "/" or a pattern of parameters only: recognised when its endpoints run (DashboardGuard)
        }

        if (!inGroup && parameter < 0 && string.Equals(literal, _dashboardPath, StringComparison.OrdinalIgnoreCase))
        {
            _mappedByApp = true;
        }

        lock (_lock)
        {
            if (!_paths.Contains(literal, StringComparer.OrdinalIgnoreCase))
            {
                string[] paths = [.. _paths, literal];
                Volatile.Write(ref _search, SearchValues.Create(paths, StringComparison.OrdinalIgnoreCase));
                Volatile.Write(ref _paths, paths);
            }
        }
    }

    /// <summary>Whether the request's full path holds a dashboard path as whole segments. No allocation.</summary>
    public bool IsDashboardPath(HttpRequest request)
    {
        var search = Volatile.Read(ref _search);
        var pathBase = request.PathBase.Value.AsSpan();
        var path = request.Path.Value.AsSpan();
        if (ContainsSegments(path, search) || ContainsSegments(pathBase, search))
        {
            return true;
        }

        // A multi-segment dashboard path split between PathBase and Path (rare: only then is anything allocated).
        return pathBase.Length > 0 && path.Length > 0 && HasMultiSegmentPath() && ContainsSegments(string.Concat(pathBase, path), search);
    }

    private bool HasMultiSegmentPath()
    {
        foreach (var dashboard in Volatile.Read(ref _paths))
        {
            if (dashboard.AsSpan(1).Contains('/'))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Whether <paramref name="path"/> holds one of the searched paths (each starts with '/') followed by '/' or its end.</summary>
    private bool ContainsSegments(ReadOnlySpan<char> path, SearchValues<string> search)
    {
        var offset = 0;
        while (offset < path.Length)
        {
            var at = path[offset..].IndexOfAny(search);
            if (at < 0)
            {
                return false;
            }

            at += offset;
            foreach (var dashboard in Volatile.Read(ref _paths))
            {
                var end = at + dashboard.Length;
                if (end <= path.Length && path.Slice(at, dashboard.Length).Equals(dashboard, StringComparison.OrdinalIgnoreCase)
                    && (end == path.Length || path[end] == '/'))
                {
                    return true;
                }
            }

            offset = at + 1;
        }

        return false;
    }

    /// <summary>Whether the request was marked as the dashboard's.</summary>
    public static bool IsOwn(HttpContext context) => context.Features.Get<DashboardRequestFeature>() is not null;

    /// <summary>
    /// Marks the request as the dashboard's (once; later calls do nothing). The caller suppresses capture for its own
    /// asynchronous flow (<see cref="CaptureSuppression"/>), inside an async method so the suppression cannot leak
    /// into the server's loop.
    /// </summary>
    public static void MarkOwn(HttpContext context)
    {
        var features = context.Features;
        if (features.Get<DashboardRequestFeature>() is not null)
        {
            return;
        }

        features.Set(DashboardRequestFeature.Instance);
        HttpRequestInfo.MarkNotRecorded(context);
        if (features.Get<IHttpActivityFeature>()?.Activity is { } activity)
        {
            // Export processors (OpenTelemetry's among them) skip activities that are not recorded; listeners that
            // look at IsAllDataRequested stop adding to it. Children sampled from it are dropped by parent-based samplers.
            activity.ActivityTraceFlags &= ~ActivityTraceFlags.Recorded;
            activity.IsAllDataRequested = false;
        }

        if (features.Get<IHttpMetricsTagsFeature>() is { } metrics)
        {
            metrics.MetricsDisabled = true;
        }

        CorsFreeResponseFeature.Install(context);
    }

    /// <summary>The mark <see cref="MarkOwn"/> leaves on a dashboard request.</summary>
    private sealed class DashboardRequestFeature
    {
        public static readonly DashboardRequestFeature Instance = new();
    }
}
