using System.Diagnostics;
using System.Globalization;
using FlowScope.Embedded.Storage;

namespace FlowScope.Embedded.Capture;

/// <summary>
/// Turns a stopped <see cref="Activity"/> into a compact <see cref="SpanRecord"/>: names, a component from
/// FlowScope's vocabulary, attributes and events capped in count and length. Runs on the pump, off the request path;
/// not thread-safe (one pump, one converter).
/// </summary>
internal sealed class SpanConverter
{
    /// <summary>The attribute FlowScope's own sources use to say which component a span belongs to.</summary>
    internal const string ComponentAttribute = "flowscope.component";

    private readonly int _maxAttributes;
    private readonly int _maxValueLength;
    private readonly int _maxEvents;
    private readonly string _instance;
    private readonly Redactor _redactor;

    // Scratch list for one span's attributes (one pump, one converter): records keep an exact-size copy, not a
    // List with up to eight slots of slack and its own object.
    private readonly List<KeyValuePair<string, string>> _attributes = new(16);

    // Request names repeat ("GET /rooms/{id}"); keep one string per method and route (bounded).
    private readonly Dictionary<(string Method, string Target), string> _requestNames = new();
    private const int MaxCachedNames = 4_096;

    // A request record's attributes repeat from request to request (method, path, scheme, route, status): the last
    // array made for each request name is shared by the following records with the same attributes. Records are
    // immutable, and every array a stored trace keeps is one more object the GC copies (bounded like the names).
    private readonly Dictionary<string, KeyValuePair<string, string>[]> _requestAttributes = new(ReferenceEqualityComparer.Instance);

    // The last integer value seen for each tag key (by reference: keys are nearly always literals) and its text.
    private readonly Dictionary<string, (long Number, string Text)> _lastNumbers = new(ReferenceEqualityComparer.Instance);
    private const int MaxRememberedNumbers = 512;

    // Whether each attribute key a request record always carries is secret, asked once (the redactor's settings do
    // not change): the pump converts every request, and a verdict look-up per key was one hash of the key each time.
    private readonly RequestKeys _requestKeys;

    public SpanConverter(FlowScopeOptions options, string instance, Redactor? redactor = null)
    {
        _redactor = redactor ?? new Redactor(options.RedactedNames, options.RedactValue);
        _requestKeys = new RequestKeys(_redactor);
        _maxAttributes = options.MaxAttributesPerSpan;
        _maxValueLength = options.MaxAttributeValueLength;
        _maxEvents = options.MaxEventsPerSpan;
        _instance = instance;
    }

    /// <summary>Converts one activity; returns its record (tests and single-span callers).</summary>
    public SpanRecord Convert(Activity activity)
    {
        var output = new List<SpanRecord>(1);
        Convert(activity, output);
        return output[0];
    }

    /// <summary>Gets the name of the process instance written into every record.</summary>
    internal string Instance => _instance;

    /// <summary>
    /// Converts one activity into <paramref name="output"/>: its own record first, then, for a request, one record
    /// per pipeline stage it passed through. With <paramref name="compactStages"/> (what the pump does for the
    /// in-memory store) a request's stages are not added as records but kept compactly in the request record's
    /// <see cref="SpanRecord.Stages"/>, to be expanded into the same records when read.
    /// </summary>
    public void Convert(Activity activity, List<SpanRecord> output, bool compactStages = false)
    {
        if (HttpRequestInfo.Get(activity) is HttpRequestInfo http)
        {
            ConvertRequest(activity, http, output, compactStages);
            return;
        }

        var attributes = ScratchAttributes();
        var name = activity.DisplayName;
        if (string.Equals(activity.OperationName, FlowScopeSources.HostingOperationName, StringComparison.Ordinal)
            && string.Equals(name, FlowScopeSources.HostingOperationName, StringComparison.Ordinal))
        {
            name = "HTTP request";
        }

        var component = CopyTags(activity, attributes);
        var events = CopyEvents(activity, null);
        output.Add(Record(activity, ParentOf(activity), name, component, activity.Status, activity.StatusDescription, attributes, events));
    }

    private void ConvertRequest(Activity activity, HttpRequestInfo http, List<SpanRecord> output, bool compactStages)
    {
        var attributes = ScratchAttributes();
        var status = activity.Status;
        var statusMessage = activity.StatusDescription;
        var target = http.Route ?? http.Path;
        var name = RequestName(http.Method, target);
        var keys = _requestKeys;
        AddAttribute(attributes, "http.request.method", http.Method, keys.Method);
        AddAttribute(attributes, "url.path", http.Path, keys.Path);
        if (http.Query is { Length: > 1 } query)
        {
            AddAttribute(attributes, "url.query", query[1..], keys.Query);
        }

        AddAttribute(attributes, "url.scheme", http.Scheme, keys.Scheme);
        if (http.Route is not null)
        {
            AddAttribute(attributes, "http.route", http.Route, keys.Route);
        }

        if (http.StatusCode != 0)
        {
            AddAttribute(attributes, "http.response.status_code", http.StatusCode.ToString(CultureInfo.InvariantCulture), keys.StatusCode);
        }

        List<SpanEvent>? events = null;
        var requestEnd = activity.StartTimeUtc + activity.Duration;
        if (http.Exception is { } exception)
        {
            status = ActivityStatusCode.Error;
            statusMessage ??= exception.Message;
            AddAttribute(attributes, "error.type", exception.GetType().FullName ?? exception.GetType().Name);

            // The exception event sits on the stage that threw it; without stages it goes on the request.
            if (http.StageCount == 0)
            {
                events = [ExceptionEvent(exception, requestEnd)];
            }
        }
        else if (http.StatusCode >= 500)
        {
            status = ActivityStatusCode.Error;
            AddAttribute(attributes, "error.type", http.StatusCode.ToString(CultureInfo.InvariantCulture));
        }

        var component = CopyTags(activity, attributes);
        events = CopyEvents(activity, events);
        if (http.RootEvents is { } rootEvents)
        {
            events ??= new List<SpanEvent>(rootEvents.Count);
            AppendCapped(events, rootEvents);
        }

        var record = Record(activity, ParentOf(activity), name, component, status, statusMessage, attributes, events, http, requestEnd);
        output.Add(record);
        if (!compactStages && record.Stages is { } stages)
        {
            stages.Expand(output);
            record.Stages = null;
        }
    }

    /// <summary>The attribute carrying a stage's own time, without the stages nested in it.</summary>
    internal const string SelfTimeAttribute = "flowscope.self_time_ms";

    /// <summary>
    /// The parent as FlowScope shows it: a span started inside a request belongs under the pipeline stage that was
    /// running when it started (the app's own telemetry keeps the request as parent).
    /// </summary>
    private static ulong ParentOf(Activity activity)
    {
        var parentId = activity.ParentSpanId;
        if (parentId == default)
        {
            return 0;
        }

        var number = SpanRecord.NumberOf(parentId);
        if (activity.Parent is { } parent && HttpRequestInfo.Get(parent) is HttpRequestInfo http && http.StageCount > 0)
        {
            var stage = http.FindStageAt(http.ToTimestamp(activity.StartTimeUtc));
            if (stage >= 0)
            {
                return RequestStages.StageSpanIdValue(number, stage);
            }
        }

        return number;
    }

    /// <summary>A stable id for stage <paramref name="index"/> of the request span whose id is the number <paramref name="request"/>.</summary>
    internal static string StageSpanId(ulong request, int index) =>
        RequestStages.StageSpanIdValue(request, index).ToString("x16", CultureInfo.InvariantCulture);

    private string? CopyTags(Activity activity, List<KeyValuePair<string, string>> attributes)
    {
        string? component = null;
        foreach (var tag in activity.EnumerateTagObjects())
        {
            if (string.Equals(tag.Key, ComponentAttribute, StringComparison.Ordinal))
            {
                component = tag.Value as string;
                continue;
            }

            if (tag.Value is not null)
            {
                AddAttribute(attributes, tag.Key, FormatTagValue(tag.Key, tag.Value));
            }
        }

        return component;
    }

    private List<SpanEvent>? CopyEvents(Activity activity, List<SpanEvent>? events)
    {
        foreach (var e in activity.EnumerateEvents())
        {
            events ??= new List<SpanEvent>(4);
            if (events.Count >= _maxEvents)
            {
                break;
            }

            events.Add(new SpanEvent(Truncate(e.Name), e.Timestamp, ConvertTags(e.EnumerateTagObjects())));
        }

        if (SideEvents.Get(activity) is { } side)
        {
            events ??= new List<SpanEvent>(side.Count);
            AppendCapped(events, side);
        }

        return events;
    }

    /// <summary>Appends events up to the cap. Thread-safe (reads settings only).</summary>
    internal void AppendCapped(List<SpanEvent> events, IReadOnlyList<SpanEvent> more)
    {
        for (var i = 0; i < more.Count && events.Count < _maxEvents; i++)
        {
            events.Add(more[i]);
        }
    }

    private List<KeyValuePair<string, string>> ScratchAttributes()
    {
        _attributes.Clear();
        return _attributes;
    }

    private static KeyValuePair<string, string>[] ToArray(List<KeyValuePair<string, string>> attributes) =>
        attributes.Count == 0 ? [] : attributes.ToArray();

    /// <summary>The attributes as an array: the one the previous request of this name got when they are the same.</summary>
    private KeyValuePair<string, string>[] SharedArray(string requestName, List<KeyValuePair<string, string>> attributes)
    {
        if (attributes.Count == 0)
        {
            return [];
        }

        if (_requestAttributes.TryGetValue(requestName, out var shared) && SameAttributes(shared, attributes))
        {
            return shared;
        }

        shared = attributes.ToArray();
        _requestAttributes[requestName] = shared;
        return shared;
    }

    private static bool SameAttributes(KeyValuePair<string, string>[] shared, List<KeyValuePair<string, string>> attributes)
    {
        if (shared.Length != attributes.Count)
        {
            return false;
        }

        for (var i = 0; i < shared.Length; i++)
        {
            if (!string.Equals(shared[i].Key, attributes[i].Key, StringComparison.Ordinal)
                || !string.Equals(shared[i].Value, attributes[i].Value, StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }

    private SpanRecord Record(Activity activity, ulong parent, string name, string? component, ActivityStatusCode status, string? statusMessage, List<KeyValuePair<string, string>> attributes, List<SpanEvent>? events, HttpRequestInfo? http = null, DateTime requestEnd = default)
    {
        List<SpanLink>? links = null;
        foreach (var link in activity.EnumerateLinks())
        {
            links ??= new List<SpanLink>(2);
            links.Add(new SpanLink(link.Context.TraceId.ToHexString(), link.Context.SpanId.ToHexString()));
        }

        if (events is not null)
        {
            events.Sort(static (a, b) => a.Timestamp.CompareTo(b.Timestamp));
        }

        var record = new SpanRecord(
            activity.TraceId,
            activity.SpanId,
            parent,
            name,
            activity.Kind,
            component ?? InferComponent(activity),
            new DateTimeOffset(activity.StartTimeUtc, TimeSpan.Zero),
            activity.Duration,
            status,
            statusMessage is null ? null : Truncate(statusMessage),
            http is null ? ToArray(attributes) : SharedArray(name, attributes),
            (IReadOnlyList<SpanEvent>?)events ?? [],
            (IReadOnlyList<SpanLink>?)links ?? [],
            activity.Source.Name,
            _instance,
            activity.HasRemoteParent);
        if (http is not null)
        {
            record.Stages = RequestStages.Capture(this, http, record, requestEnd);
        }

        return record;
    }

    internal static string InferComponent(Activity activity)
    {
        var source = activity.Source.Name;
        if (string.Equals(source, FlowScopeSources.AspNetCore, StringComparison.Ordinal) && activity.Kind == ActivityKind.Server)
        {
            return SpanComponents.Server;
        }

        if (string.Equals(source, FlowScopeSources.HttpClient, StringComparison.Ordinal))
        {
            return SpanComponents.HttpClient;
        }

        return activity.Kind switch
        {
            ActivityKind.Producer or ActivityKind.Consumer => SpanComponents.Queue,
            ActivityKind.Client when activity.GetTagItem("db.system") is not null || activity.GetTagItem("db.system.name") is not null => SpanComponents.Database,
            ActivityKind.Client => SpanComponents.HttpClient,
            ActivityKind.Server => SpanComponents.Server,
            _ => SpanComponents.Custom,
        };
    }

    internal SpanEvent ExceptionEvent(Exception exception, DateTime timestamp)
    {
        var tags = new List<KeyValuePair<string, string>>(3);
        AddAttribute(tags, "exception.type", exception.GetType().FullName ?? exception.GetType().Name);
        AddAttribute(tags, "exception.message", exception.Message);
        AddAttribute(tags, "exception.stacktrace", exception.ToString());
        return new SpanEvent("exception", new DateTimeOffset(timestamp, TimeSpan.Zero), tags);
    }

    private KeyValuePair<string, string>[] ConvertTags(Activity.Enumerator<KeyValuePair<string, object?>> tags)
    {
        List<KeyValuePair<string, string>>? result = null;
        foreach (var tag in tags)
        {
            if (tag.Value is null)
            {
                continue;
            }

            result ??= new List<KeyValuePair<string, string>>(4);
            AddAttribute(result, tag.Key, FormatValue(tag.Value));
        }

        return result is null ? [] : [.. result];
    }

    /// <summary>Adds a redacted, truncated attribute up to the cap. Thread-safe for a caller's own list (reads settings only).</summary>
    internal void AddAttribute(List<KeyValuePair<string, string>> attributes, string key, string value)
    {
        if (attributes.Count < _maxAttributes)
        {
            AddAttribute(attributes, key, value, _redactor.IsSecret(key));
        }
    }

    /// <summary>As <see cref="AddAttribute(List{KeyValuePair{string, string}}, string, string)"/> with the key's verdict known.</summary>
    private void AddAttribute(List<KeyValuePair<string, string>> attributes, string key, string value, bool secret)
    {
        if (attributes.Count < _maxAttributes)
        {
            attributes.Add(new KeyValuePair<string, string>(key, Truncate(_redactor.Value(key, value, secret))));
        }
    }

    /// <summary>The redactor's verdict on each attribute key of a request record.</summary>
    private sealed class RequestKeys(Redactor redactor)
    {
        public readonly bool Method = redactor.IsSecret("http.request.method");
        public readonly bool Path = redactor.IsSecret("url.path");
        public readonly bool Query = redactor.IsSecret("url.query");
        public readonly bool Scheme = redactor.IsSecret("url.scheme");
        public readonly bool Route = redactor.IsSecret("http.route");
        public readonly bool StatusCode = redactor.IsSecret("http.response.status_code");
    }

    internal string Truncate(string value) =>
        value.Length <= _maxValueLength ? value : string.Concat(value.AsSpan(0, _maxValueLength), "…");

    private string RequestName(string method, string target)
    {
        if (_requestNames.TryGetValue((method, target), out var name))
        {
            return name;
        }

        name = string.Concat(method, " ", target);
        if (_requestNames.Count >= MaxCachedNames)
        {
            _requestNames.Clear();
            _requestAttributes.Clear();
        }

        _requestNames[(method, target)] = name;
        return name;
    }

    /// <summary>
    /// A tag's value as text. An integer value gets the text the previous span's value of the same key got when the
    /// two are equal: ports, status codes and counts repeat from span to span, and each copy of their text was one
    /// more small string kept by every stored span (most numbers have no cached text of their own).
    /// </summary>
    private string FormatTagValue(string key, object value)
    {
        long number;
        switch (value)
        {
            case int i: number = i; break;
            case long l: number = l; break;
            case short h: number = h; break;
            case ushort u: number = u; break;
            case uint u: number = u; break;
            case byte b: number = b; break;
            default: return FormatValue(value);
        }

        if (_lastNumbers.TryGetValue(key, out var last) && last.Number == number)
        {
            return last.Text;
        }

        var text = number.ToString(CultureInfo.InvariantCulture);
        if (_lastNumbers.Count >= MaxRememberedNumbers)
        {
            _lastNumbers.Clear();
        }

        _lastNumbers[key] = (number, text);
        return text;
    }

    internal static string FormatValue(object value) => value switch
    {
        string s => s,
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        Array array => FormatArray(array),
        _ => value.ToString() ?? string.Empty,
    };

    private static string FormatArray(Array array)
    {
        var parts = new string[Math.Min(array.Length, 32)];
        for (var i = 0; i < parts.Length; i++)
        {
            var item = array.GetValue(i);
            parts[i] = item is null ? "null" : FormatValue(item);
        }

        return "[" + string.Join(", ", parts) + (array.Length > parts.Length ? ", …]" : "]");
    }
}
