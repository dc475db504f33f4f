using System.Diagnostics;
using System.Globalization;

namespace FlowScope.Embedded.Queues;

/// <summary>
/// The trace context a message carries from its producer to its consumer: the W3C <c>traceparent</c> and
/// <c>tracestate</c> of the producer span and the time the message was enqueued. Store it in the message's
/// headers (<see cref="Inject{TCarrier}"/>) or envelope, and hand it back to
/// <see cref="QueueTracing.StartProcess(string, string, QueueTraceContext?, string?, int)"/> in the handler.
/// </summary>
public sealed class QueueTraceContext
{
    // Set when the context was captured in this process: its parent is then local, not remote.
    private readonly ActivityContext? _local;

    /// <summary>The W3C header carrying the producer span's identity: <c>traceparent</c>.</summary>
    public const string TraceParentHeader = "traceparent";

    /// <summary>The W3C header carrying vendor trace state: <c>tracestate</c>.</summary>
    public const string TraceStateHeader = "tracestate";

    /// <summary>The header carrying the enqueue time in Unix milliseconds: <c>flowscope-enqueued-at</c>.</summary>
    public const string EnqueuedAtHeader = "flowscope-enqueued-at";

    /// <summary>Creates a trace context from the values a message carried.</summary>
    /// <param name="traceParent">The W3C <c>traceparent</c> value, or <see langword="null"/>.</param>
    /// <param name="traceState">The W3C <c>tracestate</c> value, or <see langword="null"/>.</param>
    /// <param name="enqueuedAt">When the message was enqueued, or <see langword="null"/> when unknown.</param>
    public QueueTraceContext(string? traceParent, string? traceState, DateTimeOffset? enqueuedAt)
    {
        TraceParent = string.IsNullOrEmpty(traceParent) ? null : traceParent;
        TraceState = string.IsNullOrEmpty(traceState) ? null : traceState;
        EnqueuedAt = enqueuedAt;
    }

    private QueueTraceContext(Activity activity, DateTimeOffset? enqueuedAt)
        : this(activity.Id, activity.TraceStateString, enqueuedAt)
    {
        _local = activity.Context;
    }

    /// <summary>Gets the W3C <c>traceparent</c> of the producer span, or <see langword="null"/> when there was none.</summary>
    public string? TraceParent { get; }

    /// <summary>Gets the W3C <c>tracestate</c>, or <see langword="null"/>.</summary>
    public string? TraceState { get; }

    /// <summary>Gets when the message was enqueued, or <see langword="null"/> when unknown.</summary>
    public DateTimeOffset? EnqueuedAt { get; }

    /// <summary>
    /// Gets the producer span's context, or <see langword="default"/> when <see cref="TraceParent"/> is missing or
    /// malformed. A context read from headers is a remote parent; one captured in this process is a local one.
    /// </summary>
    public ActivityContext ActivityContext =>
        _local ?? (TraceParent is not null && ActivityContext.TryParse(TraceParent, TraceState, isRemote: true, out var context) ? context : default);

    /// <summary>Captures the current activity (if any) as a trace context, stamped with <paramref name="enqueuedAt"/>.</summary>
    /// <param name="enqueuedAt">The enqueue time to carry, or <see langword="null"/>.</param>
    /// <returns>The context of <see cref="Activity.Current"/>, or a context without a parent when there is none.</returns>
    public static QueueTraceContext FromCurrentActivity(DateTimeOffset? enqueuedAt = null) => FromActivity(Activity.Current, enqueuedAt);

    internal static QueueTraceContext FromActivity(Activity? activity, DateTimeOffset? enqueuedAt) =>
        activity is { IdFormat: ActivityIdFormat.W3C, Id: not null }
            ? new QueueTraceContext(activity, enqueuedAt)
            : new QueueTraceContext(null, null, enqueuedAt);

    /// <summary>Writes <c>traceparent</c>, <c>tracestate</c> and <c>flowscope-enqueued-at</c> (those that have a value) into a message's headers.</summary>
    /// <typeparam name="TCarrier">The headers' type.</typeparam>
    /// <param name="carrier">The message's headers.</param>
    /// <param name="setter">Sets one header.</param>
    public void Inject<TCarrier>(TCarrier carrier, Action<TCarrier, string, string> setter)
    {
        ArgumentNullException.ThrowIfNull(setter);
        if (TraceParent is not null)
        {
            setter(carrier, TraceParentHeader, TraceParent);
        }

        if (TraceState is not null)
        {
            setter(carrier, TraceStateHeader, TraceState);
        }

        if (EnqueuedAt is { } enqueuedAt)
        {
            setter(carrier, EnqueuedAtHeader, enqueuedAt.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture));
        }
    }

    /// <summary>Reads a trace context back from a message's headers; missing or malformed values are ignored.</summary>
    /// <typeparam name="TCarrier">The headers' type.</typeparam>
    /// <param name="carrier">The message's headers.</param>
    /// <param name="getter">Gets one header, or <see langword="null"/> when absent.</param>
    /// <returns>The trace context the headers carry.</returns>
    public static QueueTraceContext Extract<TCarrier>(TCarrier carrier, Func<TCarrier, string, string?> getter)
    {
        ArgumentNullException.ThrowIfNull(getter);
        DateTimeOffset? enqueuedAt = null;
        if (long.TryParse(getter(carrier, EnqueuedAtHeader), NumberStyles.Integer, CultureInfo.InvariantCulture, out var ms)
            && ms >= 0 && ms <= DateTimeOffset.MaxValue.ToUnixTimeMilliseconds())
        {
            enqueuedAt = DateTimeOffset.FromUnixTimeMilliseconds(ms);
        }

        return new QueueTraceContext(getter(carrier, TraceParentHeader), getter(carrier, TraceStateHeader), enqueuedAt);
    }
}
