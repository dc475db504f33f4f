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
        : this(parentSpanId, name, kind, component, startTime, duration, status, statusMessage, attributes, events, links, source, instance, hasRemoteParent)
    {
        ArgumentException.ThrowIfNullOrEmpty(traceId);
        ArgumentException.ThrowIfNullOrEmpty(spanId);
        var texts = Texts;
        texts.TraceId = traceId;
        texts.SpanId = spanId;
    }

    /// <summary>
    /// A record of a captured activity: its trace and span ids kept as numbers and formatted only when read. The
    /// store keeps every request's record, and every object a stored trace holds is copied by the GC when it
    /// survives a collection (and collected in gen2 when the trace is evicted); the two id strings (the activity's
    /// own) were two of about seven such objects per request, and nothing on the write path needs them as text.
    /// The parent span id is a number too (0: no parent): a child span's parent id string was one more object per
    /// stored span, and one more string formatted for every span started under a pipeline stage.
    /// </summary>
    internal SpanRecord(
        ActivityTraceId traceId,
        ActivitySpanId spanId,
        ulong parentSpanId,
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
        bool hasRemoteParent)
        : this(null, name, kind, component, startTime, duration, status, statusMessage, attributes, events, links, source, instance, hasRemoteParent)
    {
        (_traceHigh, _traceLow) = TraceKey.Of(traceId).Numbers;
        _spanIdNumber = NumberOf(spanId);
        _numericIds = true;
        _parentNumber = parentSpanId;
    }

    /// <summary>Everything but the ids, which each public or internal constructor sets its own way.</summary>
    private SpanRecord(
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
        bool hasRemoteParent)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(component);
        ArgumentNullException.ThrowIfNull(attributes);
        ArgumentNullException.ThrowIfNull(events);
        ArgumentNullException.ThrowIfNull(links);
        if (parentSpanId is not null)
        {
            _texts = new IdTexts { ParentSpanId = parentSpanId };
        }

        Name = name;
        _kind = (byte)kind;
        Component = component;
        _startTicks = startTime.UtcTicks;
        Duration = duration;
        _status = (byte)status;
        if (statusMessage is not null || events.Count > 0 || links.Count > 0)
        {
            _rare = new RareParts(statusMessage, events, links);
        }

        Attributes = attributes;
        Source = source ?? string.Empty;
        Instance = instance ?? string.Empty;
        _hasRemoteParent = hasRemoteParent;
    }

    // The store keeps every request's record for as long as the trace is kept, and the GC copies each surviving one:
    // fields that most records leave empty or never read as text live in two side objects made only when needed,
    // and the small fields are packed (a record of a span with eight attributes was 184 B, now 136 B).

    // The ids as text: given by the public constructor, or formatted from the numbers when first read (racing readers
    // make equal strings). Null until then.
    private IdTexts? _texts;

    // Status message, events and links: null when the span has none of them (most spans).
    private readonly RareParts? _rare;
    private readonly ulong _traceHigh;
    private readonly ulong _traceLow;
    private readonly ulong _spanIdNumber;

    // The parent as a number (records made from activities; 0 for a root span, or for a record whose ids are text).
    private readonly ulong _parentNumber;
    private readonly long _startTicks;
    private readonly byte _kind;
    private readonly byte _status;
    private readonly bool _numericIds;
    private readonly bool _hasRemoteParent;

    private sealed class IdTexts
    {
        public string? TraceId;
        public string? SpanId;
        public string? ParentSpanId;
    }

    private sealed class RareParts(string? statusMessage, IReadOnlyList<SpanEvent> events, IReadOnlyList<SpanLink> links)
    {
        public readonly string? StatusMessage = statusMessage;
        public readonly IReadOnlyList<SpanEvent> Events = events;
        public readonly IReadOnlyList<SpanLink> Links = links;
    }

    private IdTexts Texts => _texts ??= new IdTexts();

    /// <summary>Gets the W3C trace id (32 lowercase hex digits).</summary>
    public string TraceId => Texts.TraceId ??= TraceKey.ToString();

    /// <summary>Gets the span id (16 lowercase hex digits).</summary>
    public string SpanId => Texts.SpanId ??= _spanIdNumber.ToString("x16", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The trace id as the store's key, without formatting it.</summary>
    internal TraceKey TraceKey => _numericIds ? new TraceKey(_traceHigh, _traceLow) : TraceKey.Of(_texts!.TraceId!);

    /// <summary>The span id as a number (its 16 hex digits), without formatting it; see <c>ComponentGraph.IdOf</c>.</summary>
    internal ulong SpanIdNumber => _numericIds ? _spanIdNumber : Metrics.ComponentGraph.IdOf(_texts!.SpanId!);

    /// <summary>An activity span id as the number its 16 hex digits spell.</summary>
    internal static ulong NumberOf(ActivitySpanId id)
    {
        // The activity keeps its id as text; a vectorised decode of that text is several times faster than the
        // id's own CopyTo (which decodes digit by digit), and the pump does this for every span it converts.
        Span<byte> bytes = stackalloc byte[8];
        if (Convert.FromHexString(id.ToHexString(), bytes, out _, out var written) != System.Buffers.OperationStatus.Done || written != 8)
        {
            id.CopyTo(bytes);
        }

        return System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(bytes);
    }

    /// <summary>Gets the parent span id, or <see langword="null"/> for a root span.</summary>
    public string? ParentSpanId => _parentNumber == 0
        ? _texts?.ParentSpanId
        : Texts.ParentSpanId ??= _parentNumber.ToString("x16", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Gets whether the span has a parent, without formatting its id.</summary>
    internal bool HasParent => _parentNumber != 0 || _texts?.ParentSpanId is not null;

    /// <summary>The parent span id as a number (see <see cref="SpanIdNumber"/>), or <see langword="null"/> for a root span.</summary>
    internal ulong? ParentSpanIdNumber => _parentNumber != 0 ? _parentNumber : _texts?.ParentSpanId is { } text ? Metrics.ComponentGraph.IdOf(text) : null;

    /// <summary>Gets whether the parent span lives in another process (the trace came in with a <c>traceparent</c>).</summary>
    public bool HasRemoteParent => _hasRemoteParent;

    /// <summary>Gets the span name.</summary>
    public string Name { get; }

    /// <summary>Gets the span kind.</summary>
    public ActivityKind Kind => (ActivityKind)_kind;

    /// <summary>Gets the component the span belongs to; one of the <see cref="SpanComponents"/> names.</summary>
    public string Component { get; }

    /// <summary>Gets when the span started (UTC).</summary>
    public DateTimeOffset StartTime => new(_startTicks, TimeSpan.Zero);

    /// <summary>Gets how long the span lasted.</summary>
    public TimeSpan Duration { get; }

    /// <summary>Gets when the span ended (UTC).</summary>
    public DateTimeOffset EndTime => new(_startTicks + Duration.Ticks, TimeSpan.Zero);

    /// <summary>Gets the span status.</summary>
    public ActivityStatusCode Status => (ActivityStatusCode)_status;

    /// <summary>Gets the status description, usually set for errors.</summary>
    public string? StatusMessage => _rare?.StatusMessage;

    /// <summary>Gets the attributes, capped in count and value length.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Attributes { get; }

    /// <summary>Gets the events (logs, exceptions, observations), capped in count.</summary>
    public IReadOnlyList<SpanEvent> Events => _rare?.Events ?? [];

    /// <summary>Gets the links to other spans (for example the messages of a batch).</summary>
    public IReadOnlyList<SpanLink> Links => _rare?.Links ?? [];

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
    internal SpanRecord WithoutStages() => Stages is null ? this : new SpanRecord(this);

    /// <summary>A copy of <paramref name="other"/> with its ids as they are (numbers or strings), without its stages.</summary>
    private SpanRecord(SpanRecord other)
        : this(null, other.Name, other.Kind, other.Component, other.StartTime, other.Duration, other.Status, null, other.Attributes, [], [], other.Source, other.Instance, other.HasRemoteParent)
    {
        // The side objects are shared with the original (both records stand for the same span), not made again.
        _texts = other._texts;
        _rare = other._rare;
        _traceHigh = other._traceHigh;
        _traceLow = other._traceLow;
        _spanIdNumber = other._spanIdNumber;
        _numericIds = other._numericIds;
        _parentNumber = other._parentNumber;
    }

    /// <summary>Gets the value of an attribute, or <see langword="null"/> when the span has none of that name.</summary>
    public string? GetAttribute(string key)
    {
        // Read for every span the pump observes: by index, so no enumerator is boxed per call.
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

/// <summary>
/// A trace id as the in-memory store keys it: the two halves of a W3C id (32 lowercase hex digits) as numbers, any
/// other text as it is. Ordered as the text is ordered (ordinal), formatted back to the same text.
/// </summary>
internal readonly struct TraceKey : IEquatable<TraceKey>
{
    private readonly ulong _high;
    private readonly ulong _low;
    private readonly string? _text;

    /// <summary>The key of a W3C id given as its two halves.</summary>
    public TraceKey(ulong high, ulong low)
        : this(high, low, null)
    {
    }

    private TraceKey(ulong high, ulong low, string? text)
    {
        _high = high;
        _low = low;
        _text = text;
    }

    /// <summary>The two halves of a W3C id (only for keys not made from other text).</summary>
    public (ulong High, ulong Low) Numbers => _text is null ? (_high, _low) : throw new InvalidOperationException("Not a W3C trace id.");

    public static TraceKey Of(ActivityTraceId id)
    {
        // As SpanRecord.NumberOf: decode the id's text in one vectorised pass rather than through CopyTo.
        Span<byte> bytes = stackalloc byte[16];
        if (Convert.FromHexString(id.ToHexString(), bytes, out _, out var written) != System.Buffers.OperationStatus.Done || written != 16)
        {
            id.CopyTo(bytes);
        }

        return new TraceKey(
            System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(bytes),
            System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]),
            null);
    }

    public static TraceKey Of(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        if (id.Length == 32 && IsLowerHex(id)
            && ulong.TryParse(id.AsSpan(0, 16), System.Globalization.NumberStyles.AllowHexSpecifier, System.Globalization.CultureInfo.InvariantCulture, out var high)
            && ulong.TryParse(id.AsSpan(16), System.Globalization.NumberStyles.AllowHexSpecifier, System.Globalization.CultureInfo.InvariantCulture, out var low))
        {
            return new TraceKey(high, low, null);
        }

        return new TraceKey(0, 0, id);
    }

    private static bool IsLowerHex(string id)
    {
        foreach (var c in id)
        {
            if (c is not ((>= '0' and <= '9') or (>= 'a' and <= 'f')))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Ordinal order of the texts (for W3C ids: the numbers, high half first).</summary>
    public static int CompareOrdinal(TraceKey a, TraceKey b) =>
        a._text is null && b._text is null
            ? (a._high != b._high ? a._high.CompareTo(b._high) : a._low.CompareTo(b._low))
            : string.CompareOrdinal(a.ToString(), b.ToString());

    public bool Equals(TraceKey other) =>
        _high == other._high && _low == other._low && string.Equals(_text, other._text, StringComparison.Ordinal);

    public override bool Equals(object? obj) => obj is TraceKey other && Equals(other);

    public override int GetHashCode() => _text is null ? HashCode.Combine(_high, _low) : StringComparer.Ordinal.GetHashCode(_text);

    public override string ToString() => _text ?? string.Create(32, (_high, _low), static (chars, v) =>
    {
        v._high.TryFormat(chars, out _, "x16", System.Globalization.CultureInfo.InvariantCulture);
        v._low.TryFormat(chars[16..], out _, "x16", System.Globalization.CultureInfo.InvariantCulture);
    });
}
