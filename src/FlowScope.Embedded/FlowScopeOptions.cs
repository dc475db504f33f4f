using FlowScope.Embedded.Storage;

namespace FlowScope.Embedded;

/// <summary>
/// Options for FlowScope, bound from the <c>FlowScope</c> configuration section and then from the delegate
/// passed to <c>AddFlowScope</c>. Validated when the host starts.
/// </summary>
public sealed class FlowScopeOptions
{
    /// <summary>The configuration section FlowScope binds: <c>FlowScope</c>.</summary>
    public const string SectionName = "FlowScope";

    /// <summary>The default value of <see cref="DashboardPath"/>: <c>/_flowscope</c>.</summary>
    public const string DefaultDashboardPath = "/_flowscope";

    /// <summary>The default value of <see cref="BufferCapacity"/>: 32 768 spans.</summary>
    public const int DefaultBufferCapacity = 32_768;

    /// <summary>The default value of <see cref="MaxStoreMegabytes"/>: 32 MB.</summary>
    public const int DefaultMaxStoreMegabytes = 32;

    /// <summary>The default value of <see cref="MaxSpansPerTrace"/>: 1 000 spans.</summary>
    public const int DefaultMaxSpansPerTrace = 1_000;

    /// <summary>The default value of <see cref="MaxAttributesPerSpan"/>: 64 attributes.</summary>
    public const int DefaultMaxAttributesPerSpan = 64;

    /// <summary>The default value of <see cref="MaxAttributeValueLength"/>: 1 024 characters.</summary>
    public const int DefaultMaxAttributeValueLength = 1_024;

    /// <summary>The default value of <see cref="MaxEventsPerSpan"/>: 128 events.</summary>
    public const int DefaultMaxEventsPerSpan = 128;

    /// <summary>The default value of <see cref="MaxLiveSubscribers"/>: 32 connections.</summary>
    public const int DefaultMaxLiveSubscribers = 32;

    /// <summary>The default value of <see cref="MaxLiveSubscribersPerClient"/>: 4 connections.</summary>
    public const int DefaultMaxLiveSubscribersPerClient = 4;

    /// <summary>The default value of <see cref="HydrationTraceCount"/>: 100 traces.</summary>
    public const int DefaultHydrationTraceCount = 100;

    /// <summary>The default value of <see cref="NPlusOneThreshold"/>: 5.</summary>
    public const int DefaultNPlusOneThreshold = 5;

    /// <summary>The default value of <see cref="LiveUpdateInterval"/>: 100 milliseconds.</summary>
    public static readonly TimeSpan DefaultLiveUpdateInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>The default value of <see cref="HeartbeatInterval"/>: 15 seconds.</summary>
    public static readonly TimeSpan DefaultHeartbeatInterval = TimeSpan.FromSeconds(15);

    /// <summary>
    /// The default routine request paths: health checks, OpenAPI documents and UIs, the favicon, robots.txt,
    /// <c>/.well-known/</c> and static files by their extension.
    /// </summary>
    public static readonly IReadOnlyList<string> DefaultRoutinePaths =
    [
        "/health*", "/healthz", "/ready", "/readyz", "/live", "/livez", "/alive", "/ping",
        "/openapi/*", "/swagger*", "/scalar*", "/favicon.ico", "/robots.txt", "/sitemap.xml", "/.well-known/*",
        "*.js", "*.mjs", "*.css", "*.map", "*.png", "*.jpg", "*.jpeg", "*.gif", "*.svg", "*.ico", "*.webp", "*.avif",
        "*.woff", "*.woff2", "*.ttf", "*.otf", "*.eot",
    ];

    /// <summary>
    /// Gets or sets whether FlowScope runs at all. <see langword="false"/> is a kill switch: nothing is captured,
    /// no FlowScope code runs on the request path and the dashboard is not mapped.
    /// </summary>
    /// <value>The default value is <see langword="true"/>.</value>
    public bool Enabled { get; set; } = true;

    /// <summary>Gets or sets the path the dashboard and its API are served under by <c>UseFlowScope</c>.</summary>
    /// <value>The default value is <see cref="DefaultDashboardPath"/>.</value>
    public string DashboardPath { get; set; } = DefaultDashboardPath;

    /// <summary>
    /// Gets or sets whether the dashboard answers requests from other machines without an authorization policy.
    /// When <see langword="false"/>, only loopback requests are answered unless the dashboard endpoints require
    /// authorization (<c>MapFlowScope().RequireAuthorization(...)</c>); others get 404.
    /// </summary>
    /// <value>The default value is <see langword="false"/>.</value>
    public bool AllowRemoteDashboard { get; set; }

    /// <summary>
    /// Gets the host names, besides loopback ones, the dashboard answers to. A request admitted because it comes from
    /// loopback (with <see cref="AllowRemoteDashboard"/> off) must name a loopback host (<c>localhost</c>, <c>*.localhost</c>, <c>127.0.0.1</c>, <c>[::1]</c>) or
    /// one of these in its <c>Host</c> header; others get 421, which keeps DNS-rebinding pages out. When the list is
    /// not empty it applies to every dashboard request, also those admitted by a policy, the access token or
    /// <see cref="AllowRemoteDashboard"/>. Entries are host names or IP addresses without port or scheme
    /// (<c>devbox</c>, <c>10.0.0.5</c>), <c>*.example.com</c> for its subdomains, or <c>*</c> for any host.
    /// </summary>
    /// <value>The default value is an empty list: loopback names only, for loopback callers.</value>
    public IList<string> DashboardAllowedHosts { get; } = new List<string>();

    /// <summary>
    /// Gets or sets the authorization policy the dashboard and its API require. When set, <c>UseFlowScope</c> maps
    /// them with <c>RequireAuthorization(policy)</c>: anonymous callers get 401, signed-in callers the policy denies
    /// get 403, from any address. Requires <c>AddAuthorization</c> and an authentication scheme.
    /// </summary>
    /// <value>The default value is <see langword="null"/>: loopback only (see <see cref="AllowRemoteDashboard"/>).</value>
    public string? DashboardAuthorizationPolicy { get; set; }

    /// <summary>
    /// Gets or sets whether a random access token is made at start and logged once as a link. Opening the link from
    /// any address sets an HttpOnly, SameSite=Strict cookie that opens the dashboard for that browser until the app
    /// restarts. For containers, where the operator's browser is never on loopback.
    /// </summary>
    /// <value>The default value is <see langword="false"/>.</value>
    public bool EnableAccessToken { get; set; }

    /// <summary>
    /// Gets or sets the authorization policy a caller must satisfy to take operator actions (injecting faults, starting
    /// and stopping simulators). Operator actions are always POST or DELETE requests carrying an antiforgery token
    /// (from <c>{DashboardPath}/api/operator</c>). Anonymous callers get 401, signed-in callers the policy denies get
    /// 403. Requires <c>AddAuthorization</c> and an authentication scheme that runs before <c>UseFlowScope</c>'s
    /// dashboard endpoints.
    /// </summary>
    /// <value>
    /// The default value is <see langword="null"/>: operator actions are allowed from loopback only (the developer's own
    /// machine); everyone else who can open the dashboard sees it read-only.
    /// </value>
    public string? OperatorAuthorizationPolicy { get; set; }

    /// <summary>
    /// Gets or sets whether operators may inject delays and failures into middleware, endpoints, queue handlers and
    /// worker units of work from the dashboard (<c>{DashboardPath}/api/faults</c>). While no injection is active the
    /// request path pays one field read per instrumented component. Leave it off in production.
    /// </summary>
    /// <value>The default value is <see langword="false"/>: the fault API refuses with 403.</value>
    public bool EnableFaultInjection { get; set; }

    /// <summary>Gets or sets how many live-stream connections one client address may hold; further ones get 429.</summary>
    /// <value>The default value is <see cref="DefaultMaxLiveSubscribersPerClient"/>.</value>
    public int MaxLiveSubscribersPerClient { get; set; } = DefaultMaxLiveSubscribersPerClient;

    /// <summary>
    /// Gets or sets whether every middleware of the request pipeline (and MVC's steps) is timed as a stage of the
    /// request. Stages are recorded without creating activities, so the app's exported telemetry is unchanged.
    /// </summary>
    /// <value>The default value is <see langword="true"/>.</value>
    public bool CaptureMiddleware { get; set; } = true;

    /// <summary>
    /// Gets or sets the lowest level of <c>ILogger</c> entries recorded as events of the span they were written in.
    /// <see cref="Microsoft.Extensions.Logging.LogLevel.None"/> records no logs.
    /// </summary>
    /// <value>The default value is <see cref="Microsoft.Extensions.Logging.LogLevel.Information"/>.</value>
    public Microsoft.Extensions.Logging.LogLevel MinimumLogLevel { get; set; } = Microsoft.Extensions.Logging.LogLevel.Information;

    /// <summary>
    /// Gets or sets how many spans may wait between capture and the store. When the buffer is full, new spans
    /// are dropped (never blocking the request) and counted.
    /// </summary>
    /// <value>The default value is <see cref="DefaultBufferCapacity"/>.</value>
    public int BufferCapacity { get; set; } = DefaultBufferCapacity;

    /// <summary>
    /// Gets or sets the memory the in-memory store may hold, in megabytes: every span in its encoded form plus the
    /// store's index. When it is full, the oldest spans make room (traces still receiving spans are kept), and every
    /// eviction is counted. The store keeps no object per trace or span, so its size costs the app's garbage collector
    /// nothing; see docs/configuration.md ("Memory budget") for how many traces a megabyte holds.
    /// </summary>
    /// <value>The default value is <see cref="DefaultMaxStoreMegabytes"/>.</value>
    public int MaxStoreMegabytes { get; set; } = DefaultMaxStoreMegabytes;

    /// <summary>
    /// Gets what the in-memory store keeps beyond the newest traces when it is full: errors, slow outliers and a sample
    /// of every route, each within a share of <see cref="MaxStoreMegabytes"/> (<c>FlowScope:Retention</c>).
    /// </summary>
    public RetentionOptions Retention { get; } = new();

    /// <summary>
    /// Gets or sets a limit on the number of traces the in-memory store keeps, besides its memory cap
    /// (<see cref="MaxStoreMegabytes"/>); the least recently updated trace is evicted first. 0: no limit.
    /// </summary>
    /// <value>The default value is 0: the memory cap alone decides.</value>
    public int MaxTraces { get; set; }

    /// <summary>Gets or sets how many spans one trace keeps; further spans of that trace are rejected and counted.</summary>
    /// <value>The default value is <see cref="DefaultMaxSpansPerTrace"/>.</value>
    public int MaxSpansPerTrace { get; set; } = DefaultMaxSpansPerTrace;

    /// <summary>Gets or sets how many attributes one span keeps.</summary>
    /// <value>The default value is <see cref="DefaultMaxAttributesPerSpan"/>.</value>
    public int MaxAttributesPerSpan { get; set; } = DefaultMaxAttributesPerSpan;

    /// <summary>Gets or sets the length at which attribute values and event texts are cut.</summary>
    /// <value>The default value is <see cref="DefaultMaxAttributeValueLength"/>.</value>
    public int MaxAttributeValueLength { get; set; } = DefaultMaxAttributeValueLength;

    /// <summary>Gets or sets how many events (logs, exceptions, observations) one span keeps.</summary>
    /// <value>The default value is <see cref="DefaultMaxEventsPerSpan"/>.</value>
    public int MaxEventsPerSpan { get; set; } = DefaultMaxEventsPerSpan;

    /// <summary>
    /// Gets the names of additional <see cref="System.Diagnostics.ActivitySource"/>s to capture. A trailing or
    /// embedded <c>*</c> is a wildcard (<c>MyCompany.*</c>). ASP.NET Core, <c>HttpClient</c> and FlowScope's own
    /// sources are always captured.
    /// </summary>
    /// <value>The default value is an empty list.</value>
    public IList<string> Sources { get; } = new List<string>();

    /// <summary>
    /// Gets additional names whose values are redacted wherever FlowScope copies them: attribute keys (or a segment
    /// of them: <c>tenant.ssn</c> matches <c>ssn</c>), log properties and query parameters. Names such as
    /// <c>authorization</c>, <c>cookie</c>, <c>token</c>, <c>key</c>, <c>secret</c>, <c>password</c>, <c>code</c> and
    /// <c>sig</c> are always redacted.
    /// </summary>
    /// <value>The default value is an empty list.</value>
    public IList<string> RedactedNames { get; } = new List<string>();

    /// <summary>
    /// Gets or sets a hook that sees every attribute and log property value FlowScope is about to keep, after the
    /// built-in redaction, and returns the value to keep (return the value unchanged to keep it). An exception or a
    /// <see langword="null"/> result keeps <c>[REDACTED]</c>. Runs on FlowScope's background pump for span
    /// attributes and on the logging thread for log properties: keep it fast.
    /// </summary>
    /// <value>The default value is <see langword="null"/>.</value>
    public Func<string, string, string>? RedactValue { get; set; }

    /// <summary>Gets or sets the service name recorded on every span.</summary>
    /// <value>The default value is <see langword="null"/>: the host's application name.</value>
    public string? ServiceName { get; set; }

    /// <summary>Gets or sets the instance name recorded on every span (distinguishes processes sharing one history).</summary>
    /// <value>The default value is <see langword="null"/>: <c>{machine name}/{process id}</c>.</value>
    public string? InstanceName { get; set; }

    /// <summary>Gets or sets how long the live stream gathers trace updates before sending them in one batch.</summary>
    /// <value>The default value is <see cref="DefaultLiveUpdateInterval"/>.</value>
    public TimeSpan LiveUpdateInterval { get; set; } = DefaultLiveUpdateInterval;

    /// <summary>Gets or sets how often the live stream sends a heartbeat while idle.</summary>
    /// <value>The default value is <see cref="DefaultHeartbeatInterval"/>.</value>
    public TimeSpan HeartbeatInterval { get; set; } = DefaultHeartbeatInterval;

    /// <summary>Gets or sets how many recent traces a new live-stream connection receives first.</summary>
    /// <value>The default value is <see cref="DefaultHydrationTraceCount"/>.</value>
    public int HydrationTraceCount { get; set; } = DefaultHydrationTraceCount;

    /// <summary>
    /// Gets the request paths the dashboard's trace list folds away as routine (one toggle shows them). <c>*</c>
    /// matches any characters; matching ignores case and is done on the route template, or on the path for requests
    /// without one. Routine requests are still recorded, counted in every figure and found by search, and a routine
    /// request that fails with a server error is never folded away. Add your own; clear the list to fold nothing.
    /// </summary>
    /// <value>The default value is <see cref="DefaultRoutinePaths"/>.</value>
    public IList<string> RoutinePaths { get; } = new List<string>(DefaultRoutinePaths);

    /// <summary>Gets or sets how many live-stream connections may be open at once; further ones get 429.</summary>
    /// <value>The default value is <see cref="DefaultMaxLiveSubscribers"/>.</value>
    public int MaxLiveSubscribers { get; set; } = DefaultMaxLiveSubscribers;

    /// <summary>
    /// Gets or sets whether database commands are recorded as <c>database</c> spans: Entity Framework Core and
    /// SqlClient through their diagnostic listeners, clients that follow OpenTelemetry's database conventions (Npgsql,
    /// MySqlConnector, Oracle) through their activity sources, and connections wrapped with
    /// <see cref="Database.FlowScopeDbConnection"/>.
    /// </summary>
    /// <value>The default value is <see langword="true"/>.</value>
    public bool CaptureDatabaseCommands { get; set; } = true;

    /// <summary>
    /// Gets or sets whether the values of database command parameters are recorded (as
    /// <c>db.query.parameter.{name}</c> attributes, redacted like every attribute). Off by default: statements are
    /// recorded with their placeholders only.
    /// </summary>
    /// <value>The default value is <see langword="false"/>.</value>
    public bool CaptureDatabaseParameters { get; set; }

    /// <summary>
    /// Gets or sets how many times one normalised statement (literals and parameters as <c>?</c>, IN lists collapsed)
    /// must run within a trace for the trace and the span that issued the commands to be marked as an N+1.
    /// </summary>
    /// <value>The default value is <see cref="DefaultNPlusOneThreshold"/>.</value>
    public int NPlusOneThreshold { get; set; } = DefaultNPlusOneThreshold;
}
