using System.Diagnostics;
using System.Globalization;
using FlowScope.Embedded.Database;
using FlowScope.Embedded.Storage;
using FlowScope.Embedded.Storage.Encoding;

namespace FlowScope.Embedded.Capture;

/// <summary>
/// Encodes a stopped <see cref="Activity"/> into FlowScope's one stored form, a span payload (<see cref="PayloadLayout"/>):
/// names, a component from FlowScope's vocabulary, attributes and events redacted and capped; a request's pipeline
/// stages ride in its payload. Runs on the pump, off the request path; not thread-safe (one pump, one converter).
/// </summary>
internal sealed class SpanConverter
{
    /// <summary>The attribute FlowScope's own sources use to say which component a span belongs to.</summary>
    internal const string ComponentAttribute = "flowscope.component";

    /// <summary>Values are cut to this length when a span is too large to store whole (see <see cref="PayloadLayout.MaxPayloadBytes"/>).</summary>
    private const int ReducedValueLength = 256;

    private readonly int _maxAttributes;
    private readonly int _maxValueLength;
    private readonly int _maxEvents;
    private readonly string _instance;
    private readonly Redactor _redactor;
    private readonly bool _keepParameters;
    private readonly DatabaseMarks _database;
    private readonly Action<string, string> _addMark;

    // Scratch lists for one span (one pump, one converter).
    private readonly List<KeyValuePair<string, string>> _attributes = new(16);
    private readonly List<SpanEvent> _events = new(8);
    private StageEntry[] _stages = new StageEntry[16];

    // Request names repeat ("GET /rooms/{id}"); keep one string per method and route (bounded).
    private readonly Dictionary<(string Method, string Target), string> _requestNames = new();
    private const int MaxCachedNames = 4_096;

    // Whether each attribute key a request record always carries is secret, asked once (the redactor's settings do
    // not change).
    private readonly RequestKeys _requestKeys;

    public SpanConverter(FlowScopeOptions options, string instance, Redactor? redactor = null)
    {
        _redactor = redactor ?? new Redactor(options.RedactedNames, options.RedactValue);
        _requestKeys = new RequestKeys(_redactor);
        _maxAttributes = options.MaxAttributesPerSpan;
        _maxValueLength = options.MaxAttributeValueLength;
        _maxEvents = options.MaxEventsPerSpan;
        _instance = instance;
        _keepParameters = options.CaptureDatabaseParameters;
        _database = new DatabaseMarks(options.NPlusOneThreshold);
        _addMark = (key, value) => AddAttribute(_attributes, key, value);
    }

    /// <summary>Gets the name of the process instance written into every span.</summary>
    internal string Instance => _instance;

    /// <summary>
    /// Encodes <paramref name="activity"/> as one payload appended to <paramref name="batch"/>. Returns the spans it
    /// stands for (1, or for a request 1 + its stages).
    /// </summary>
    public int Convert(Activity activity, SpanBatch batch)
    {
        if (activity.Kind == ActivityKind.Client && DatabaseSystemOf(activity) is not null)
        {
            _database.Record(activity, ParentOf(activity), activity.GetTagItem("db.query.text") as string);
        }

        var writer = batch.Writer;
        var start = writer.Begin();
        var spans = Write(activity, writer, reduced: false);
        if (writer.PayloadPosition > PayloadLayout.MaxPayloadBytes)
        {
            writer.Abandon();
            start = writer.Begin();
            spans = Write(activity, writer, reduced: true);
        }

        batch.Commit(start, writer.End(), spans);
        _database.Release(activity);
        return spans;
    }

    /// <summary>The records <paramref name="activity"/> becomes when read back: its own, then its stages (tests, tools).</summary>
    public IReadOnlyList<SpanRecord> ConvertToRecords(Activity activity)
    {
        var batch = new SpanBatch();
        Convert(activity, batch);
        return batch.Decode();
    }

    /// <summary>The record of <paramref name="activity"/> itself, as read back (tests).</summary>
    public SpanRecord ConvertOne(Activity activity) => ConvertToRecords(activity)[0];

    private int Write(Activity activity, PayloadWriter writer, bool reduced)
    {
        var valueLength = reduced ? Math.Min(_maxValueLength, ReducedValueLength) : _maxValueLength;
        var http = HttpRequestInfo.Get(activity) as HttpRequestInfo;
        var attributes = ScratchAttributes();
        var events = ScratchEvents();
        var status = activity.Status;
        var statusMessage = activity.StatusDescription;
        string name;
        var requestEnd = activity.StartTimeUtc + activity.Duration;
        if (http is not null)
        {
            name = RequestName(http.Method, http.Route ?? http.Path);
            AddRequestAttributes(http, attributes);
            if (http.Exception is { } exception)
            {
                status = ActivityStatusCode.Error;
                statusMessage ??= exception.Message;
                AddAttribute(attributes, "error.type", exception.GetType().FullName ?? exception.GetType().Name);

                // The exception event sits on the stage that threw it; without stages it goes on the request.
                if (http.StageCount == 0 && !reduced)
                {
                    events.Add(ExceptionEvent(exception, requestEnd));
                }
            }
            else if (http.StatusCode >= 500)
            {
                status = ActivityStatusCode.Error;
                AddAttribute(attributes, "error.type", http.StatusCode.ToString(CultureInfo.InvariantCulture));
            }
        }
        else
        {
            name = activity.DisplayName;
            if (string.Equals(activity.OperationName, FlowScopeSources.HostingOperationName, StringComparison.Ordinal)
                && string.Equals(name, FlowScopeSources.HostingOperationName, StringComparison.Ordinal))
            {
                name = "HTTP request";
            }
        }

        var component = CopyTags(activity, attributes) ?? InferComponent(activity);
        if (ReferenceEquals(component, SpanComponents.Database))
        {
            name = DescribeCommand(activity, attributes, name);
        }

        _database.AddMarks(activity, _addMark);
        if (!reduced)
        {
            CopyEvents(activity, events);
            if (http?.RootEvents is { } rootEvents)
            {
                AppendCapped(events, rootEvents);
            }
        }

        PayloadHeader.Write(
            writer.Header,
            activity.Kind,
            status,
            TraceId128.Of(activity.TraceId),
            SpanIdOf(activity.SpanId),
            ParentOf(activity),
            activity.HasRemoteParent,
            activity.StartTimeUtc.Ticks,
            activity.Duration.Ticks);
        writer.WriteText(name);
        writer.WriteText(component);
        writer.WriteText(activity.Source.Name);
        writer.WriteText(_instance);
        WriteAttributes(writer, attributes, valueLength);

        byte flags = 0;
        if (statusMessage is not null)
        {
            flags |= PayloadLayout.HasStatusMessage;
            writer.WriteText(statusMessage, _maxValueLength);
        }

        if (events.Count > 0)
        {
            flags |= PayloadLayout.HasEvents;
            events.Sort(static (a, b) => a.Timestamp.CompareTo(b.Timestamp));
            WriteEvents(writer, events, activity.StartTimeUtc.Ticks, valueLength);
        }

        var links = 0;
        foreach (var _ in activity.EnumerateLinks())
        {
            links++;
        }

        if (links > 0)
        {
            flags |= PayloadLayout.HasLinks;
            writer.WriteVarUInt((ulong)links);
            foreach (var link in activity.EnumerateLinks())
            {
                var linked = TraceId128.Of(link.Context.TraceId);
                writer.WriteUInt64BigEndian(linked.High);
                writer.WriteUInt64BigEndian(linked.Low);
                writer.WriteUInt64BigEndian(SpanIdOf(link.Context.SpanId));
            }
        }

        PayloadHeader.AddFlags(writer.Header, (byte)(flags | (reduced ? PayloadLayout.Truncated : 0)));
        return 1 + (http is null ? 0 : WriteStages(activity, http, writer, activity.StartTimeUtc.Ticks, requestEnd.Ticks, valueLength, reduced));
    }

    private void AddRequestAttributes(HttpRequestInfo http, List<KeyValuePair<string, string>> attributes)
    {
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
            AddAttribute(attributes, "http.response.status_code", StatusText(http.StatusCode), keys.StatusCode);
        }
    }

    /// <summary>Writes the stage section of a request; returns the number of stages written.</summary>
    private int WriteStages(Activity request, HttpRequestInfo http, PayloadWriter writer, long requestStart, long requestEnd, int valueLength, bool reduced)
    {
        var requestId = SpanIdOf(request.SpanId);
        var count = Math.Min(http.StageCount, PayloadLayout.MaxStages);
        if (count == 0)
        {
            return 0;
        }

        if (_stages.Length < count)
        {
            _stages = new StageEntry[Math.Max(count, _stages.Length * 2)];
        }

        var array = http.StageArray;
        var hasDetails = http.HasDetails;
        var failed = 0;
        ushort components = 0;
        var sectionOffset = writer.PayloadPosition;
        writer.WriteVarUInt((ulong)http.StagesWithChildren);
        for (var i = 0; i < count; i++)
        {
            var stage = array[i];
            var start = ToUtcTicks(http, stage.Start);
            var end = stage.End == 0 ? requestEnd : ToUtcTicks(http, stage.End);
            var definition = stage.Definition;
            components |= definition.ComponentBit;
            byte flags = 0;
            if (stage.Failed)
            {
                flags |= PayloadLayout.StageFailed | PayloadLayout.StageHasDetails | PayloadLayout.StageHasStatusMessage;
                failed++;
            }
            else if ((hasDetails && HasDetails(http.GetDetails(i))) || _database.HasIssuerMarks(request, StageSection.StageSpanId(requestId, i)))
            {
                flags |= PayloadLayout.StageHasDetails;
            }

            writer.WriteVarUInt((ulong)stage.DefinitionId);
            writer.WriteVarInt(start - requestStart);
            writer.WriteVarUInt((ulong)Math.Max(0, end - start));
            writer.WriteVarUInt((ulong)(stage.Parent + 1));
            writer.WriteByte(flags);
            _stages[i] = new StageEntry { StartTicks = start, DurationTicks = Math.Max(0, end - start), Flags = flags };
        }

        for (var i = 0; i < count; i++)
        {
            var flags = _stages[i].Flags;
            if ((flags & PayloadLayout.StageHasDetails) == 0)
            {
                continue;
            }

            var details = hasDetails ? http.GetDetails(i) : default;
            if ((flags & PayloadLayout.StageHasStatusMessage) != 0)
            {
                writer.WriteText(details.Exception?.Message ?? http.LastException?.Message ?? "failed", _maxValueLength);
            }

            var attributes = ScratchAttributes();
            if (details.Attributes is { } extra)
            {
                foreach (var pair in extra)
                {
                    AddAttribute(attributes, pair.Key, pair.Value);
                }
            }

            _database.AddStageMarks(request, StageSection.StageSpanId(requestId, i), _addMark);
            WriteAttributes(writer, attributes, valueLength);
            var events = ScratchEvents();
            if (!reduced)
            {
                if (details.Exception is { } exception)
                {
                    events.Add(ExceptionEvent(exception, new DateTime(_stages[i].EndTicks, DateTimeKind.Utc)));
                }

                if (http.StageEvents(i) is { } logs)
                {
                    AppendCapped(events, logs);
                }
            }

            WriteEvents(writer, events, requestStart, valueLength);
        }

        PayloadHeader.SetStages(writer.Header, count, failed, sectionOffset, components);
        return count;
    }

    private static bool HasDetails(HttpRequestInfo.StageDetails details) =>
        details.Exception is not null || details.Events is not null || details.Attributes is not null;

    // UTC ticks exactly as HttpRequestInfo.ToUtc maps stopwatch timestamps.
    private static long ToUtcTicks(HttpRequestInfo http, long timestamp) =>
        http.BaseUtc.Ticks + Stopwatch.GetElapsedTime(http.BaseTimestamp, timestamp).Ticks;

    private static void WriteAttributes(PayloadWriter writer, List<KeyValuePair<string, string>> attributes, int valueLength)
    {
        writer.WriteVarUInt((ulong)attributes.Count);
        foreach (var pair in attributes)
        {
            writer.WriteText(pair.Key);
            writer.WriteText(pair.Value, valueLength);
        }
    }

    private void WriteEvents(PayloadWriter writer, List<SpanEvent> events, long spanStart, int valueLength)
    {
        writer.WriteVarUInt((ulong)events.Count);
        foreach (var e in events)
        {
            writer.WriteText(e.Name, _maxValueLength);
            writer.WriteVarInt(e.Timestamp.UtcTicks - spanStart);
            var attributes = e.Attributes;
            writer.WriteVarUInt((ulong)attributes.Count);
            for (var i = 0; i < attributes.Count; i++)
            {
                writer.WriteText(attributes[i].Key);
                writer.WriteText(attributes[i].Value, valueLength);
            }
        }
    }

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

        var number = SpanIdOf(parentId);
        if (activity.Parent is { } parent && HttpRequestInfo.Get(parent) is HttpRequestInfo http && http.StageCount > 0)
        {
            var stage = http.FindStageAt(http.ToTimestamp(activity.StartTimeUtc));
            if (stage >= 0)
            {
                return StageSection.StageSpanId(number, stage);
            }
        }

        return number;
    }

    /// <summary>An activity span id as the number its 16 hex digits spell.</summary>
    internal static ulong SpanIdOf(ActivitySpanId id)
    {
        // The activity keeps its id as text; a vectorised decode of that text is several times faster than the id's
        // own CopyTo (which decodes digit by digit), and the pump does this for every span it converts.
        Span<byte> bytes = stackalloc byte[8];
        if (System.Convert.FromHexString(id.ToHexString(), bytes, out _, out var written) != System.Buffers.OperationStatus.Done || written != 8)
        {
            id.CopyTo(bytes);
        }

        return System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(bytes);
    }

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
                if (!_keepParameters && tag.Key.StartsWith(DatabaseCommands.ParameterTagPrefix, StringComparison.Ordinal))
                {
                    continue;
                }

                AddAttribute(attributes, tag.Key, FormatValue(tag.Value));
            }
        }

        return component;
    }

    private void CopyEvents(Activity activity, List<SpanEvent> events)
    {
        foreach (var e in activity.EnumerateEvents())
        {
            if (events.Count >= _maxEvents)
            {
                break;
            }

            events.Add(new SpanEvent(e.Name, e.Timestamp, ConvertTags(e.EnumerateTagObjects())));
        }

        if (SideEvents.Get(activity) is { } side)
        {
            AppendCapped(events, side);
        }
    }

    /// <summary>Appends events up to the cap.</summary>
    private void AppendCapped(List<SpanEvent> events, IReadOnlyList<SpanEvent> more)
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

    private List<SpanEvent> ScratchEvents()
    {
        _events.Clear();
        return _events;
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
            ActivityKind.Client when DatabaseSystemOf(activity) is not null => SpanComponents.Database,
            ActivityKind.Client => SpanComponents.HttpClient,
            ActivityKind.Server => SpanComponents.Server,
            _ => SpanComponents.Custom,
        };
    }

    /// <summary>The database system a client span names (OpenTelemetry's current and earlier attribute), if any.</summary>
    internal static object? DatabaseSystemOf(Activity activity) => activity.GetTagItem("db.system.name") ?? activity.GetTagItem("db.system");

    /// <summary>
    /// Completes a database span: <c>db.operation.name</c> and <c>db.collection.name</c> read from its statement when
    /// the client did not set them, and for FlowScope's own command spans the name "{operation} {table}".
    /// </summary>
    private string DescribeCommand(Activity activity, List<KeyValuePair<string, string>> attributes, string name)
    {
        if (activity.GetTagItem("db.query.text") is not string text)
        {
            return name;
        }

        var statement = _database.Read(text);
        if (statement.Operation is { } operation && activity.GetTagItem("db.operation.name") is null)
        {
            AddAttribute(attributes, "db.operation.name", operation);
        }

        if (statement.Collection is { } collection && activity.GetTagItem("db.collection.name") is null)
        {
            AddAttribute(attributes, "db.collection.name", collection);
        }

        return string.Equals(activity.Source.Name, DatabaseCommands.ActivitySourceName, StringComparison.Ordinal) ? statement.Name ?? name : name;
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

    /// <summary>Adds a redacted attribute up to the cap (values are cut to length when written).</summary>
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
            attributes.Add(new KeyValuePair<string, string>(key, _redactor.Value(key, value, secret)));
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

    private static readonly string[] s_statusTexts = BuildStatusTexts();

    private static string[] BuildStatusTexts()
    {
        var texts = new string[600];
        for (var i = 0; i < texts.Length; i++)
        {
            texts[i] = i.ToString(CultureInfo.InvariantCulture);
        }

        return texts;
    }

    private static string StatusText(int code) => (uint)code < (uint)s_statusTexts.Length ? s_statusTexts[code] : code.ToString(CultureInfo.InvariantCulture);

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
        }

        _requestNames[(method, target)] = name;
        return name;
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
