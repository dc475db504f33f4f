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

    // Scratch list for one span's attributes (one pump, one converter): the record keeps an exact-size copy, not a
    // List with up to eight slots of slack and its own object.
    private readonly List<KeyValuePair<string, string>> _attributes = new(16);

    // Request names repeat ("GET /rooms/{id}"); keep one string per method and route (bounded).
    private readonly Dictionary<(string Method, string Target), string> _requestNames = new();
    private const int MaxCachedNames = 4_096;

    public SpanConverter(FlowScopeOptions options, string instance)
    {
        _maxAttributes = options.MaxAttributesPerSpan;
        _maxValueLength = options.MaxAttributeValueLength;
        _maxEvents = options.MaxEventsPerSpan;
        _instance = instance;
    }

    public SpanRecord Convert(Activity activity)
    {
        var attributes = _attributes;
        attributes.Clear();
        var status = activity.Status;
        var statusMessage = activity.StatusDescription;
        var name = activity.DisplayName;
        string? component = null;
        List<SpanEvent>? events = null;

        if (HttpRequestInfo.Get(activity) is HttpRequestInfo http)
        {
            var target = http.Route ?? http.Path;
            name = RequestName(http.Method, target);
            AddAttribute(attributes, "http.request.method", http.Method);
            AddAttribute(attributes, "url.path", http.Path);
            AddAttribute(attributes, "url.scheme", http.Scheme);
            if (http.Route is not null)
            {
                AddAttribute(attributes, "http.route", http.Route);
            }

            if (http.StatusCode != 0)
            {
                AddAttribute(attributes, "http.response.status_code", http.StatusCode.ToString(CultureInfo.InvariantCulture));
            }

            if (http.Exception is { } exception)
            {
                status = ActivityStatusCode.Error;
                statusMessage ??= exception.Message;
                events = [ExceptionEvent(exception, activity.StartTimeUtc + activity.Duration)];
                AddAttribute(attributes, "error.type", exception.GetType().FullName ?? exception.GetType().Name);
            }
            else if (http.StatusCode >= 500)
            {
                status = ActivityStatusCode.Error;
                AddAttribute(attributes, "error.type", http.StatusCode.ToString(CultureInfo.InvariantCulture));
            }
        }
        else if (string.Equals(activity.OperationName, FlowScopeSources.HostingOperationName, StringComparison.Ordinal)
            && string.Equals(name, FlowScopeSources.HostingOperationName, StringComparison.Ordinal))
        {
            name = "HTTP request";
        }

        foreach (var tag in activity.EnumerateTagObjects())
        {
            if (string.Equals(tag.Key, ComponentAttribute, StringComparison.Ordinal))
            {
                component = tag.Value as string;
                continue;
            }

            if (tag.Value is null)
            {
                continue;
            }

            AddAttribute(attributes, tag.Key, FormatValue(tag.Value));
        }

        foreach (var e in activity.EnumerateEvents())
        {
            events ??= new List<SpanEvent>(4);
            if (events.Count >= _maxEvents)
            {
                break;
            }

            events.Add(new SpanEvent(Truncate(e.Name), e.Timestamp, ConvertTags(e.EnumerateTagObjects())));
        }

        List<SpanLink>? links = null;
        foreach (var link in activity.EnumerateLinks())
        {
            links ??= new List<SpanLink>(2);
            links.Add(new SpanLink(link.Context.TraceId.ToHexString(), link.Context.SpanId.ToHexString()));
        }

        var parent = activity.ParentSpanId;
        return new SpanRecord(
            activity.TraceId.ToHexString(),
            activity.SpanId.ToHexString(),
            parent == default ? null : parent.ToHexString(),
            name,
            activity.Kind,
            component ?? InferComponent(activity),
            new DateTimeOffset(activity.StartTimeUtc, TimeSpan.Zero),
            activity.Duration,
            status,
            statusMessage is null ? null : Truncate(statusMessage),
            attributes.Count == 0 ? [] : attributes.ToArray(),
            (IReadOnlyList<SpanEvent>?)events ?? [],
            (IReadOnlyList<SpanLink>?)links ?? [],
            activity.Source.Name,
            _instance,
            activity.HasRemoteParent);
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

    private SpanEvent ExceptionEvent(Exception exception, DateTime timestamp)
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

    private void AddAttribute(List<KeyValuePair<string, string>> attributes, string key, string value)
    {
        if (attributes.Count < _maxAttributes)
        {
            attributes.Add(new KeyValuePair<string, string>(key, Truncate(value)));
        }
    }

    private string Truncate(string value) =>
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
