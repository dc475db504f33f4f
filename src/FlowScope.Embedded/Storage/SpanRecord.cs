using System.Diagnostics;

namespace FlowScope.Embedded.Storage;

/// <summary>
/// A compact, immutable copy of one finished span (one OpenTelemetry span), as FlowScope stores it.
/// Attributes and events are already capped and redacted.
/// </summary>
public sealed class SpanRecord
{
    /// <summary>Creates a span record.</summary>
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
        bool hasRemoteParent = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(traceId);
        ArgumentException.ThrowIfNullOrEmpty(spanId);
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(component);
        ArgumentNullException.ThrowIfNull(attributes);
        ArgumentNullException.ThrowIfNull(events);
        ArgumentNullException.ThrowIfNull(links);
        TraceId = traceId;
        SpanId = spanId;
        ParentSpanId = parentSpanId;
        Name = name;
        Kind = kind;
        Component = component;
        StartTime = startTime;
        Duration = duration;
        Status = status;
        StatusMessage = statusMessage;
        Attributes = attributes;
        Events = events;
        Links = links;
        Source = source ?? string.Empty;
        Instance = instance ?? string.Empty;
        HasRemoteParent = hasRemoteParent;
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

    /// <summary>
    /// For a request span in the in-memory store: its pipeline stages, kept compactly and expanded into span records
    /// of their own when read. Never set on records handed to other stores or returned by a store.
    /// </summary>
    internal Capture.RequestStages? Stages { get; set; }

    /// <summary>This record without its compact stages (what a store hands out; the stages come as records of their own).</summary>
    internal SpanRecord WithoutStages() => Stages is null
        ? this
        : new SpanRecord(TraceId, SpanId, ParentSpanId, Name, Kind, Component, StartTime, Duration, Status, StatusMessage, Attributes, Events, Links, Source, Instance, HasRemoteParent);

    /// <summary>Gets the value of an attribute, or <see langword="null"/> when the span has none of that name.</summary>
    public string? GetAttribute(string key)
    {
        foreach (var pair in Attributes)
        {
            if (string.Equals(pair.Key, key, StringComparison.Ordinal))
            {
                return pair.Value;
            }
        }

        return null;
    }
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
}
