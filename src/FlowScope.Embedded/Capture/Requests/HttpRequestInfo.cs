using System.Diagnostics;
using FlowScope.Embedded.Metrics;
using FlowScope.Embedded.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;

namespace FlowScope.Embedded.Capture;

/// <summary>
/// What FlowScope learns about one request while it runs: method, path, route, status, unhandled exception, the
/// pipeline stages it passed through (middleware, endpoint, MVC steps) with their timings, and the log entries
/// written during it. Attached to ASP.NET Core's request activity as a custom property (exporters never see custom
/// properties, so an app's OpenTelemetry output stays exactly as it was) and to the request's features for quick
/// access. Stages are recorded as timestamps, not as activities: FlowScope never changes <c>Activity.Current</c>,
/// so the parent of every span the app exports stays what it was.
/// </summary>
internal sealed partial class HttpRequestInfo
{
    private const string PropertyName = "FlowScope.HttpRequestInfo";

    /// <summary>Marks a request that must not be recorded (FlowScope's own dashboard traffic).</summary>
    internal static readonly object Ignored = new();

    /// <summary>Feature value for requests FlowScope does not record, so each stage does not look again.</summary>
    private static readonly HttpRequestInfo s_none = new();

    private HttpContext? _context;
    private readonly int _maxEvents;
    private readonly RequestMetrics? _metrics;
    private readonly Redactor? _redactor;

    private HttpRequestInfo()
    {
        Method = Path = Scheme = string.Empty;
    }

    private HttpRequestInfo(HttpContext context, int maxEvents, RequestMetrics? metrics, Redactor? redactor, DateTime requestStartUtc)
    {
        _context = context;
        _maxEvents = maxEvents;
        _metrics = metrics;
        _redactor = redactor;
        metrics?.RequestStarted();
        Method = context.Request.Method;
        Path = context.Request.PathBase.HasValue ? context.Request.PathBase.Add(context.Request.Path).Value ?? "/" : context.Request.Path.Value ?? "/";
        Scheme = context.Request.Scheme;
        Query = context.Request.QueryString.Value;
        BaseTimestamp = Stopwatch.GetTimestamp();
        // The shared anchor extrapolates the wall clock from the stopwatch for up to 100 ms, so while the system clock
        // is being slewed it can read some microseconds early; a stage must never appear to start before its request.
        var utc = ClockAnchor.UtcAt(BaseTimestamp);
        BaseUtc = utc < requestStartUtc ? requestStartUtc : utc;
    }

    public string Method { get; }

    public string Path { get; private set; }

    public string Scheme { get; }

    /// <summary>The raw query string (with '?'); redacted when converted, never stored as is.</summary>
    public string? Query { get; }

    public string? Route { get; private set; }

    /// <summary>
    /// The route template MVC matched when the request has no endpoint (MVC without endpoint routing, <c>UseMvc</c>),
    /// set by FlowScope's MVC filter; <see cref="Route"/> when the request ends.
    /// </summary>
    internal string? MvcRoute { get; set; }

    /// <summary>The endpoint's stage entry, noted by the endpoint's stage (spares the traits look-up at the end).</summary>
    internal Instrumentation.Pipeline.EndpointStage? EndpointEntry { get; set; }

    /// <summary>What the request's endpoint is (gRPC method, hub), once the request has ended; null without an endpoint.</summary>
    internal Instrumentation.Pipeline.EndpointTraits? Traits { get; private set; }

    /// <summary>
    /// The kind of long-lived connection the request was (<c>websocket</c>, <c>sse</c>, <c>signalr</c>,
    /// <c>grpc-stream</c>), or <see langword="null"/> for an ordinary request; known once it has ended.
    /// </summary>
    internal string? Connection { get; private set; }

    public int StatusCode { get; private set; }

    /// <summary>The exception that left the outermost recorded stage (or FlowScope's middleware) unhandled.</summary>
    public Exception? Exception { get; set; }

    /// <summary>A <see cref="Stopwatch"/> timestamp and the UTC time taken at the same moment: maps stage times to UTC.</summary>
    public long BaseTimestamp { get; }

    public DateTime BaseUtc { get; }

    /// <summary>
    /// Gets the request's info, attaching it on first use. Returns <see langword="null"/> for requests FlowScope does
    /// not record (no request activity, not sampled, or FlowScope's own dashboard).
    /// </summary>
    public static HttpRequestInfo? For(HttpContext context, in RequestCaptureSettings settings)
    {
        var features = context.Features;
        var existing = features.Get<HttpRequestInfo>();
        if (existing is not null)
        {
            return ReferenceEquals(existing, s_none) ? null : existing;
        }

        var activity = features.Get<IHttpActivityFeature>()?.Activity;
        if (activity is null || !activity.IsAllDataRequested || CaptureSuppression.IsSuppressed)
        {
            features.Set(s_none);
            return null;
        }

        if (settings.DashboardPath.HasValue && context.Request.Path.StartsWithSegments(settings.DashboardPath))
        {
            MarkIgnored(activity);
            features.Set(s_none);
            return null;
        }

        var info = new HttpRequestInfo(context, settings.MaxEventsPerSpan, settings.Metrics, settings.Redactor, activity.StartTimeUtc);
        activity.SetCustomProperty(PropertyName, info);
        features.Set(info);
        return info;
    }

    // The request whose pipeline runs on this thread right now: a stage sets it around its synchronous call of the
    // next component and restores it afterwards (RunningScope), so the stages and MVC filters nested inside find
    // their request without a feature look-up. Only valid within that synchronous extent, where the context cannot
    // belong to another request (contexts are reused only after their request has ended).
    [ThreadStatic]
    private static HttpContext? t_runningContext;
    [ThreadStatic]
    private static HttpRequestInfo? t_runningInfo;

    /// <summary>As <see cref="For"/>, but first the request whose stage is running on this thread.</summary>
    public static HttpRequestInfo? ForRunning(HttpContext context, in RequestCaptureSettings settings) =>
        ReferenceEquals(t_runningContext, context) ? t_runningInfo : For(context, settings);

    /// <summary>Makes <paramref name="info"/> the running request of this thread until the scope is disposed.</summary>
    internal static RunningScope Run(HttpContext context, HttpRequestInfo info)
    {
        var scope = new RunningScope(t_runningContext, t_runningInfo);
        t_runningContext = context;
        t_runningInfo = info;
        return scope;
    }

    internal readonly struct RunningScope(HttpContext? previousContext, HttpRequestInfo? previousInfo) : IDisposable
    {
        public void Dispose()
        {
            t_runningContext = previousContext;
            t_runningInfo = previousInfo;
        }
    }

    /// <summary>
    /// Keeps a request out of FlowScope's data from now on (FlowScope's own dashboard traffic): nothing attaches to
    /// it any more, and what was attached before stops counting as in flight.
    /// </summary>
    public static void MarkNotRecorded(HttpContext context)
    {
        context.Features.Set(s_none);
        if (context.Features.Get<IHttpActivityFeature>()?.Activity is { } activity)
        {
            MarkIgnored(activity);
        }
    }

    public static void MarkIgnored(Activity activity)
    {
        if (activity.GetCustomProperty(PropertyName) is HttpRequestInfo info)
        {
            info.Discard();
        }

        activity.SetCustomProperty(PropertyName, Ignored);
    }

    /// <summary>Ends the request's in-flight count without recording it. Request thread, before <see cref="Complete"/>.</summary>
    private void Discard()
    {
        if (_context is null)
        {
            return;
        }

        _context = null;
        _metrics?.RequestEnded();
    }

    public static object? Get(Activity activity) => activity.GetCustomProperty(PropertyName);

    public DateTime ToUtc(long timestamp) => BaseUtc + Stopwatch.GetElapsedTime(BaseTimestamp, timestamp);

    public long ToTimestamp(DateTime utc) => BaseTimestamp + (long)((utc - BaseUtc).Ticks * (Stopwatch.Frequency / (double)TimeSpan.TicksPerSecond));

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
        _metrics?.RequestEnded();
        if (_stageCount > 0)
        {
            Volatile.Write(ref s_stageHint, Math.Clamp(_stageCount, 4, 64));
        }

        StatusCode = context.Response.StatusCode;
        if (context.GetEndpoint() is { } endpoint)
        {
            var traits = EndpointEntry is { } entry && ReferenceEquals(entry.Endpoint, endpoint) ? entry.Traits : Instrumentation.Pipeline.EndpointTraits.Of(endpoint);
            Traits = traits;
            Route = traits.Route;
            Connection = traits.ConnectionFor(Method);
        }
        else
        {
            Route = MvcRoute;
        }

        Connection ??= StatusCode == StatusCodes.Status101SwitchingProtocols ? "websocket"
            : StatusCode == StatusCodes.Status200OK && context.Response.ContentType is { } type && type.StartsWith("text/event-stream", StringComparison.OrdinalIgnoreCase) ? "sse"
            : null;
        if (_redactor is not null && context.Features.Get<IRouteValuesFeature>() is { } routing)
        {
            RedactRouteValues(context, _redactor.SecretRouteValues(routing.RouteValues));
        }
    }

    /// <summary>
    /// A secret bound from the path (<c>/reset/{token}</c>) is known only once routing has run, after the request's
    /// path was taken and "Request starting" logged: it is cut out of the path and the recorded log entries here,
    /// before anything leaves the request.
    /// </summary>
    private void RedactRouteValues(HttpContext context, List<KeyValuePair<string, string>>? secrets)
    {
        if (secrets is null)
        {
            return;
        }

        Path = Redactor.Scrub(Path, secrets);
        if (context.Features.Get<IHttpActivityFeature>()?.Activity is { } activity)
        {
            SideEvents.Scrub(activity, secrets); // entries written before this info was attached ("Request starting")
        }

        lock (EventsLock)
        {
            Redactor.Scrub(_rootEvents, secrets);
            if (Volatile.Read(ref _details) is { } details)
            {
                for (var i = 0; i < details.Length; i++)
                {
                    Redactor.Scrub(details[i].Events, secrets);
                }
            }
        }
    }
}
