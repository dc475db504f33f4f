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
internal sealed class HttpRequestInfo
{
    private const string PropertyName = "FlowScope.HttpRequestInfo";

    /// <summary>Marks a request that must not be recorded (FlowScope's own dashboard traffic).</summary>
    internal static readonly object Ignored = new();

    /// <summary>Feature value for requests FlowScope does not record, so each stage does not look again.</summary>
    private static readonly HttpRequestInfo s_none = new();

    // Created by the first log entry only: most requests log nothing FlowScope records, so no lock is allocated.
    private Lock? _eventsLock;
    private HttpContext? _context;
    private Stage[] _stages = [];

    // What few stages carry (an exception, log events, extra attributes), parallel to _stages; made on first use,
    // so the stage array a request allocates (and the store keeps) holds only names, times and parents.
    private StageDetails[]? _details;

    // The stage count of a recent request: the first stage array is made that large, so a steady pipeline gets one
    // exact-size array per request (kept as is by the store) instead of growing 8 → 16.
    private static int s_stageHint = 8;
    private int _stageCount;
    private int _current = -1;

    // Stages (index < 63) whose component returned the very task of the stage nested in it (a pass-through
    // middleware: "return next(context)"). They end when that stage ends, from its completion, without an awaiting
    // task of their own; whoever clears a stage's bit ends it (see TryClaimJoined).
    private long _joinedStages;

    // Which stages an activity started under (bit i: stage i; bit 63: any stage from 63 on). Only those stages'
    // span ids can be a recorded span's parent, so only those are remembered by the component map.
    private long _stagesWithChildren;
    private List<SpanEvent>? _rootEvents;
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

    public int StageCount => Volatile.Read(ref _stageCount);

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

    /// <summary>Records that a stage starts now, nested in the stage currently running. Request thread only.</summary>
    public int BeginStage(StageDefinition definition) => BeginStage(definition, Stopwatch.GetTimestamp());

    /// <summary>Records that a stage started at <paramref name="timestamp"/> (a stopwatch timestamp), nested in the stage currently running.</summary>
    public int BeginStage(StageDefinition definition, long timestamp)
    {
        var index = _stageCount;
        if (index == _stages.Length)
        {
            Array.Resize(ref _stages, index == 0 ? Volatile.Read(ref s_stageHint) : index * 2);
            if (Volatile.Read(ref _details) is { } details)
            {
                Array.Resize(ref details, _stages.Length);
                Volatile.Write(ref _details, details);
            }
        }

        _stages[index] = new Stage(definition.Id, timestamp, _current);
        _current = index;
        Volatile.Write(ref _stageCount, index + 1);
        return index;
    }

    /// <summary>Records a stage that already happened (for example MVC model binding, known only afterwards).</summary>
    public void AddCompletedStage(StageDefinition definition, long start, long end)
    {
        var index = BeginStage(definition, start);
        EndStage(index, null, end);
    }

    /// <summary>Records that stage <paramref name="index"/> ends now, with the exception that left it, if any. Request thread only.</summary>
    public void EndStage(int index, Exception? exception) => EndStage(index, exception, Stopwatch.GetTimestamp());

    /// <summary>Records that stage <paramref name="index"/> ended at <paramref name="timestamp"/> (a stopwatch timestamp).</summary>
    public void EndStage(int index, Exception? exception, long timestamp)
    {
        ref var stage = ref _stages[index];
        stage.End = timestamp;
        if (exception is not null)
        {
            // The innermost stage that sees an exception records it; outer stages only note the failure.
            stage.Failed = true;
            if (!ReferenceEquals(exception, LastException))
            {
                DetailsOf(index).Exception = exception;
                LastException = exception;
            }

            if (stage.Parent < 0)
            {
                Exception = exception;
            }
        }

        _current = stage.Parent;
    }

    /// <summary>
    /// Notes that an activity started inside this request at <paramref name="timestamp"/>: the stage running then
    /// (<see cref="FindStageAt"/>, as the converter will choose it) becomes a parent. Any thread.
    /// </summary>
    internal void NoteChildStartedAt(long timestamp)
    {
        var stage = FindStageAt(timestamp);
        if (stage >= 0)
        {
            Interlocked.Or(ref _stagesWithChildren, 1L << Math.Min(stage, 63));
        }
    }

    /// <summary>Whether stage <paramref name="index"/> may be the parent of a recorded span (see <see cref="NoteChildStartedAt"/>).</summary>
    internal static bool IsParentStage(long mask, int index) => (mask & (1L << Math.Min(index, 63))) != 0;

    /// <summary>The stages activities started under so far (see <see cref="IsParentStage"/>).</summary>
    internal long StagesWithChildren => Interlocked.Read(ref _stagesWithChildren);

    /// <summary>The parent of stage <paramref name="index"/> (-1 for an outermost stage).</summary>
    internal int ParentOfStage(int index) => Volatile.Read(ref _stages)[index].Parent;

    /// <summary>
    /// Marks stage <paramref name="index"/> as ending together with the stage nested in it, whose task its component
    /// returned. Returns <see langword="false"/> when it cannot be marked (index 63 and beyond); then it must be awaited.
    /// </summary>
    internal bool TryJoinChild(int index)
    {
        if ((uint)index >= 63)
        {
            return false;
        }

        Interlocked.Or(ref _joinedStages, 1L << index);
        return true;
    }

    /// <summary>Takes the mark of a joined stage: <see langword="true"/> for exactly one caller, who then ends it.</summary>
    internal bool TryClaimJoined(int index)
    {
        if ((uint)index >= 63)
        {
            return false;
        }

        var bit = 1L << index;
        return (Interlocked.And(ref _joinedStages, ~bit) & bit) != 0;
    }

    /// <summary>Ends stage <paramref name="index"/> and then each enclosing stage that joined it (see <see cref="TryJoinChild"/>).</summary>
    internal void EndStageAndJoined(int index, Exception? exception)
    {
        // A joined stage ends at the very moment the stage it joined does: one clock read serves them all.
        var now = Stopwatch.GetTimestamp();
        EndStage(index, exception, now);
        var parent = ParentOfStage(index);
        while (parent >= 0 && TryClaimJoined(parent))
        {
            EndStage(parent, exception, now);
            parent = ParentOfStage(parent);
        }
    }

    /// <summary>The details of stage <paramref name="index"/>, or default when it has none.</summary>
    internal StageDetails GetDetails(int index) => Volatile.Read(ref _details) is { } details && index < details.Length ? details[index] : default;

    /// <summary>Whether any stage has details (an exception, log events or extra attributes).</summary>
    internal bool HasDetails => Volatile.Read(ref _details) is not null;

    private ref StageDetails DetailsOf(int index)
    {
        var details = Volatile.Read(ref _details);
        if (details is null)
        {
            details = new StageDetails[Math.Max(_stages.Length, index + 1)];
            details = Interlocked.CompareExchange(ref _details, details, null) ?? details;
        }

        return ref details[index];
    }

    /// <summary>Adds attributes to a running stage, after those it already has. Request thread only.</summary>
    public void AddStageAttributes(int index, KeyValuePair<string, string>[] attributes)
    {
        ref var details = ref DetailsOf(index);
        details.Attributes = details.Attributes is { } existing ? [.. existing, .. attributes] : attributes;
    }

    /// <summary>
    /// The MVC stages of the request (their indexes, -1 when none): the controller stage the endpoint's stage began,
    /// and the action and result stages open between a filter's <c>…Executing</c> and <c>…Executed</c> calls.
    /// </summary>
    internal MvcStages Mvc = new() { Controller = -1, Action = -1, Result = -1 };

    internal struct MvcStages
    {
        public int Controller;
        public int Action;
        public int Result;

        /// <summary>The action method's stage ("Get()"), noted with the controller stage.</summary>
        public StageDefinition? Method;

        /// <summary>Whether an MVC filter began the controller stage (no endpoint: MVC without endpoint routing) and ends it.</summary>
        public bool OwnController;
    }

    public Exception? LastException { get; private set; }

    /// <summary>The stage array itself (at least <see cref="StageCount"/> long), for the pump once the request has ended.</summary>
    internal Stage[] StageArray => Volatile.Read(ref _stages);

    /// <summary>Gets a copy of a stage. Safe from the pump while the request still runs (see <see cref="FindStageAt"/>).</summary>
    public Stage GetStage(int index) => Volatile.Read(ref _stages)[index];

    /// <summary>
    /// Finds the innermost stage that was running at <paramref name="timestamp"/>: the stage a span that started
    /// then belongs under. Called from the pump, possibly while the request still runs: it reads only stages begun
    /// before that time, whose start and parent no longer change.
    /// </summary>
    public int FindStageAt(long timestamp)
    {
        var stages = Volatile.Read(ref _stages);
        var count = Math.Min(Volatile.Read(ref _stageCount), stages.Length);
        var found = -1;
        for (var i = 0; i < count; i++)
        {
            var stage = stages[i];
            if (stage.Start <= timestamp && (stage.End == 0 || stage.End >= timestamp))
            {
                found = i; // later-begun stages that still contain the time are nested deeper
            }
        }

        return found;
    }

    public DateTime ToUtc(long timestamp) => BaseUtc + Stopwatch.GetElapsedTime(BaseTimestamp, timestamp);

    public long ToTimestamp(DateTime utc) => BaseTimestamp + (long)((utc - BaseUtc).Ticks * (Stopwatch.Frequency / (double)TimeSpan.TicksPerSecond));

    /// <summary>Adds a log entry to the stage running now (or the request). Any thread; capped.</summary>
    private Lock EventsLock => Volatile.Read(ref _eventsLock) ?? Interlocked.CompareExchange(ref _eventsLock, new Lock(), null) ?? _eventsLock!;

    public bool AddEvent(SpanEvent spanEvent)
    {
        lock (EventsLock)
        {
            var stageIndex = _current;
            if (stageIndex >= 0 && stageIndex < _stageCount)
            {
                ref var details = ref DetailsOf(stageIndex);
                details.Events ??= new List<SpanEvent>(2);
                if (details.Events.Count >= _maxEvents)
                {
                    return false;
                }

                details.Events.Add(spanEvent);
                return true;
            }

            _rootEvents ??= new List<SpanEvent>(2);
            if (_rootEvents.Count >= _maxEvents)
            {
                return false;
            }

            _rootEvents.Add(spanEvent);
            return true;
        }
    }

    public IReadOnlyList<SpanEvent>? RootEvents
    {
        get
        {
            if (Volatile.Read(ref _eventsLock) is not { } gate)
            {
                return null;
            }

            lock (gate)
            {
                return _rootEvents is null ? null : [.. _rootEvents];
            }
        }
    }

    public IReadOnlyList<SpanEvent>? StageEvents(int index)
    {
        if (Volatile.Read(ref _eventsLock) is not { } gate)
        {
            return null;
        }

        lock (gate)
        {
            var events = GetDetails(index).Events;
            return events is null ? null : [.. events];
        }
    }

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

    /// <summary>
    /// One recorded pipeline stage: 32 bytes and no object reference (its kind is a <see cref="StageDefinition.Id"/>),
    /// so the stage array a request allocates and the store keeps is one the garbage collector copies without
    /// scanning.
    /// </summary>
    internal struct Stage(int definition, long start, int parent)
    {
        public long Start = start;
        public long End;
        public int DefinitionId = definition;
        public int Parent = parent;
        public bool Failed;

        public readonly StageDefinition Definition => StageDefinition.FromId(DefinitionId);
    }

    /// <summary>What only some stages carry.</summary>
    internal struct StageDetails
    {
        /// <summary>The exception this stage was the innermost to see.</summary>
        public Exception? Exception;

        /// <summary>Attributes beyond the definition's (the <see cref="StageDefinition.Attributes"/> are added too).</summary>
        public KeyValuePair<string, string>[]? Attributes;

        public List<SpanEvent>? Events;
    }
}

/// <summary>What request capture needs from the options, read once.</summary>
internal readonly record struct RequestCaptureSettings(PathString DashboardPath, int MaxEventsPerSpan, RequestMetrics? Metrics = null, Redactor? Redactor = null);
