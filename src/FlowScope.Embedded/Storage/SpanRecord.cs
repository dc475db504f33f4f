using System.Diagnostics;
using System.Globalization;

namespace FlowScope.Embedded.Storage;

/// <summary>
/// One finished span (one OpenTelemetry span) as a reader sees it: decoded from the store's encoded form on request.
/// Attributes and events are already capped and redacted. Immutable.
/// </summary>
public sealed class SpanRecord
{
    /// <summary>Creates a span record.</summary>
    /// <exception cref="ArgumentException">An id is not a W3C id: 32 (trace) or 16 (span) hexadecimal digits, not all zero.</exception>
    public SpanRecord(
        string traceId,
        string spanId,
        string? parentSpanId,
        string name,
        ActivityKind kind,
        string component,
        DateTimeOffset startTime,
        TimeSpan duration,
        ActivityStatusCode status,
        string? statusMessage,
        IReadOnlyList<KeyValuePair<string, string>> attributes,
        IReadOnlyList<SpanEvent> events,
        IReadOnlyList<SpanLink> links,
        string source,
        string instance,
        bool hasRemoteParent = false,
        TimeSpan? selfTime = null)
    {
        TraceId = NormalizeId(traceId, 32, nameof(traceId));
        SpanId = NormalizeId(spanId, 16, nameof(spanId));
        ParentSpanId = parentSpanId is null ? null : NormalizeId(parentSpanId, 16, nameof(parentSpanId));
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(component);
        ArgumentNullException.ThrowIfNull(attributes);
        ArgumentNullException.ThrowIfNull(events);
        ArgumentNullException.ThrowIfNull(links);
        Name = name;
        Kind = kind;
        Component = component;
        StartTime = startTime.ToUniversalTime();
        Duration = duration < TimeSpan.Zero ? TimeSpan.Zero : duration;
        Status = status;
        StatusMessage = statusMessage;
        Attributes = attributes;
        Events = events;
        Links = links;
        Source = source ?? string.Empty;
        Instance = instance ?? string.Empty;
        HasRemoteParent = hasRemoteParent;
        SelfTime = selfTime;
    }

    /// <summary>Gets the W3C trace id (32 lowercase hex digits).</summary>
    public string TraceId { get; }

    /// <summary>Gets the span id (16 lowercase hex digits).</summary>
    public string SpanId { get; }

    /// <summary>Gets the parent span id, or <see langword="null"/> for a root span.</summary>
    public string? ParentSpanId { get; }

    /// <summary>Gets whether the parent span lives in another process (the trace came in with a <c>traceparent</c>).</summary>
    public bool HasRemoteParent { get; }

    /// <summary>Gets the span name.</summary>
    public string Name { get; }

    /// <summary>Gets the span kind.</summary>
    public ActivityKind Kind { get; }

    /// <summary>Gets the component the span belongs to; one of the <see cref="SpanComponents"/> names.</summary>
    public string Component { get; }

    /// <summary>Gets when the span started (UTC).</summary>
    public DateTimeOffset StartTime { get; }

    /// <summary>Gets how long the span lasted.</summary>
    public TimeSpan Duration { get; }

    /// <summary>Gets when the span ended (UTC).</summary>
    public DateTimeOffset EndTime => StartTime + Duration;

    /// <summary>
    /// Gets the span's own time, without the spans nested in it, where FlowScope measured it (pipeline stages:
    /// middleware, endpoints, MVC steps); otherwise <see langword="null"/>.
    /// </summary>
    public TimeSpan? SelfTime { get; }

    /// <summary>Gets the span status.</summary>
    public ActivityStatusCode Status { get; }

    /// <summary>Gets the status description, usually set for errors.</summary>
    public string? StatusMessage { get; }

    /// <summary>Gets the attributes, capped in count and value length.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Attributes { get; }

    /// <summary>Gets the events (logs, exceptions, observations), capped in count.</summary>
    public IReadOnlyList<SpanEvent> Events { get; }

    /// <summary>Gets the links to other spans (for example the messages of a batch).</summary>
    public IReadOnlyList<SpanLink> Links { get; }

    /// <summary>Gets the name of the <see cref="ActivitySource"/> that produced the span.</summary>
    public string Source { get; }

    /// <summary>Gets the name of the process instance that recorded the span.</summary>
    public string Instance { get; }

    /// <summary>Gets the value of an attribute, or <see langword="null"/> when the span has none of that name.</summary>
    public string? GetAttribute(string key)
    {
        var attributes = Attributes;
        for (var i = 0; i < attributes.Count; i++)
        {
            if (string.Equals(attributes[i].Key, key, StringComparison.Ordinal))
            {
                return attributes[i].Value;
            }
        }

        return null;
    }

    private static string NormalizeId(string id, int length, string parameter)
    {
        ArgumentNullException.ThrowIfNull(id, parameter);
        var valid = id.Length == length;
        var zero = true;
        for (var i = 0; valid && i < id.Length; i++)
        {
            valid = char.IsAsciiHexDigit(id[i]);
            zero &= id[i] == '0';
        }

        if (!valid || zero)
        {
            throw new ArgumentException($"'{id}' is not a W3C {(length == 32 ? "trace" : "span")} id: {length} hexadecimal digits, not all zero.", parameter);
        }

        return id.ToLowerInvariant();
    }

    internal static string FormatSpanId(ulong id) => id.ToString("x16", CultureInfo.InvariantCulture);
}

/// <summary>An event recorded on a span: a log entry, an exception or an observation.</summary>
/// <param name="Name">The event name (for logs, the message).</param>
/// <param name="Timestamp">When the event happened (UTC).</param>
/// <param name="Attributes">The event's attributes, capped.</param>
public sealed record SpanEvent(string Name, DateTimeOffset Timestamp, IReadOnlyList<KeyValuePair<string, string>> Attributes);

/// <summary>A link from a span to another span, for example one message of a batch.</summary>
/// <param name="TraceId">The linked span's trace id.</param>
/// <param name="SpanId">The linked span's id.</param>
public sealed record SpanLink(string TraceId, string SpanId);

/// <summary>The component names a span can carry; the dashboard's flow map draws one node kind for each.</summary>
public static class SpanComponents
{
    /// <summary>The root span of an incoming HTTP request.</summary>
    public const string Server = "server";

    /// <summary>One middleware of the request pipeline.</summary>
    public const string Middleware = "middleware";

    /// <summary>A minimal API endpoint.</summary>
    public const string Endpoint = "endpoint";

    /// <summary>An MVC controller action.</summary>
    public const string Controller = "controller";

    /// <summary>A hosted service or a unit of work inside one.</summary>
    public const string Worker = "worker";

    /// <summary>A message produced to or consumed from a queue.</summary>
    public const string Queue = "queue";

    /// <summary>An outbound HTTP call.</summary>
    public const string HttpClient = "http-client";

    /// <summary>A database call.</summary>
    public const string Database = "database";

    /// <summary>A run of a simulator registered with <c>AddSimulator</c>: simulated load.</summary>
    public const string Simulator = "simulator";

    /// <summary>Anything else, including custom steps.</summary>
    public const string Custom = "custom";

    /// <summary>A SignalR hub: its connection endpoint, and each connect, invocation and disconnect on it.</summary>
    public const string SignalR = "signalr";

    /// <summary>A gRPC call: a service method served here, or a call made through <c>Grpc.Net.Client</c>.</summary>
    public const string Grpc = "grpc";
}
