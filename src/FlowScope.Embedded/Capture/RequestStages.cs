using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using FlowScope.Embedded.Storage;

namespace FlowScope.Embedded.Capture;

/// <summary>
/// The pipeline stages of one stored request, kept compactly beside the request's <see cref="SpanRecord"/> (one
/// object and one array per request instead of a record, an id string, a self-time string and an attribute array
/// per stage) and turned into span records only when something reads them (<see cref="Expand(List{SpanRecord})"/>). The expanded
/// records are exactly the ones the converter used to store: same ids, parents, names, times, attributes, events
/// and status. Immutable once created; safe to read from any thread.
/// </summary>
internal sealed class RequestStages
{
    private readonly SpanConverter _converter;
    private readonly Item[] _items;

    private RequestStages(SpanConverter converter, Item[] items, string traceId, ActivitySpanId root, string rootId)
    {
        _converter = converter;
        _items = items;
        TraceId = traceId;
        Root = root;
        RootId = rootId;

        var minStart = long.MaxValue;
        var maxEnd = long.MinValue;
        foreach (ref readonly var item in items.AsSpan())
        {
            if (item.Failed)
            {
                FailedCount++;
            }

            minStart = Math.Min(minStart, item.StartTicks);
            maxEnd = Math.Max(maxEnd, item.StartTicks + item.DurationTicks);
        }

        MinStart = new DateTimeOffset(minStart, TimeSpan.Zero);
        MaxEnd = new DateTimeOffset(maxEnd, TimeSpan.Zero);
    }

    /// <summary>Gets the number of stages, i.e. of span records <see cref="Expand(List{SpanRecord})"/> adds.</summary>
    public int Count => _items.Length;

    /// <summary>Gets the number of stages that failed (their records have status Error).</summary>
    public int FailedCount { get; }

    /// <summary>Gets the earliest start of a stage record.</summary>
    public DateTimeOffset MinStart { get; }

    /// <summary>Gets the latest end of a stage record.</summary>
    public DateTimeOffset MaxEnd { get; }

    public string TraceId { get; }

    public ActivitySpanId Root { get; }

    /// <summary>The request span's id: the parent of the outermost stages.</summary>
    public string RootId { get; }

    /// <summary>
    /// Takes the stages of a finished request (on the pump, when its activity is converted). Timestamps become UTC,
    /// self times and failure messages are computed and log events are copied now, as the converter always did.
    /// </summary>
    internal static RequestStages? Capture(SpanConverter converter, HttpRequestInfo http, string traceId, ActivitySpanId root, string rootId, DateTime requestEnd)
    {
        var count = http.StageCount;
        if (count == 0)
        {
            return null;
        }

        var items = new Item[count];
        for (var i = 0; i < count; i++)
        {
            var stage = http.GetStage(i);
            var start = http.ToUtc(stage.Start);
            var end = stage.End == 0 ? requestEnd : http.ToUtc(stage.End);
            ref var item = ref items[i];
            item.Definition = stage.Definition;
            item.Name = stage.Name;
            item.Parent = stage.Parent;
            item.Failed = stage.Failed;
            item.Attributes = stage.Attributes;
            item.StartTicks = start.Ticks;
            item.EndTicks = end.Ticks;
            var duration = end - start;
            item.DurationTicks = duration < TimeSpan.Zero ? 0 : duration.Ticks;

            List<SpanEvent>? events = null;
            if (stage.Exception is { } exception)
            {
                events = [converter.ExceptionEvent(exception, end)];
            }

            if (http.StageEvents(i) is { } logs)
            {
                events ??= new List<SpanEvent>(logs.Count);
                converter.AppendCapped(events, logs);
            }

            item.Events = events;
            if (stage.Failed)
            {
                item.StatusMessage = converter.Truncate(stage.Exception?.Message ?? http.LastException?.Message ?? "failed");
            }
        }

        // A stage's own time: its duration less the time of the stages nested directly in it.
        for (var i = 0; i < count; i++)
        {
            if (items[i].Parent >= 0)
            {
                items[items[i].Parent].ChildTicks += items[i].EndTicks - items[i].StartTicks;
            }
        }

        return new RequestStages(converter, items, traceId, root, rootId);
    }

    /// <summary>The component of stage <paramref name="index"/>.</summary>
    public string ComponentOf(int index) => _items[index].Definition.Component;

    /// <summary>The name of stage <paramref name="index"/> (its span name).</summary>
    public string NameOf(int index) => _items[index].Name ?? _items[index].Definition.Name;

    public int ParentOf(int index) => _items[index].Parent;

    public bool IsFailed(int index) => _items[index].Failed;

    public TimeSpan DurationOf(int index) => new(_items[index].DurationTicks);

    public DateTimeOffset EndOf(int index) => new(_items[index].StartTicks + _items[index].DurationTicks, TimeSpan.Zero);

    /// <summary>The stage's own time in milliseconds (never negative), the value of its self-time attribute.</summary>
    public double SelfTimeMs(int index) => Math.Max(0, new TimeSpan(_items[index].EndTicks - _items[index].StartTicks - _items[index].ChildTicks).TotalMilliseconds);

    /// <summary>The span id of stage <paramref name="index"/> as a number (see <see cref="SpanConverter.StageSpanId"/>).</summary>
    public ulong SpanIdValue(int index) => StageSpanIdValue(Root, index);

    /// <summary>Adds one span record per stage, in stage order, exactly as they would have been stored.</summary>
    public void Expand(List<SpanRecord> output)
    {
        var ids = new string[_items.Length];
        for (var i = 0; i < ids.Length; i++)
        {
            ids[i] = SpanConverter.StageSpanId(Root, i);
        }

        for (var i = 0; i < _items.Length; i++)
        {
            output.Add(ToRecord(i, ids[i], _items[i].Parent < 0 ? RootId : ids[_items[i].Parent]));
        }
    }

    /// <summary>The span records of the stages (see <see cref="Expand(List{SpanRecord})"/>).</summary>
    public List<SpanRecord> Expand()
    {
        var output = new List<SpanRecord>(_items.Length);
        Expand(output);
        return output;
    }

    /// <summary>Whether a stage record would have this component, or this name (the store's component filter).</summary>
    public bool TouchesComponent(string component)
    {
        for (var i = 0; i < _items.Length; i++)
        {
            if (string.Equals(ComponentOf(i), component, StringComparison.OrdinalIgnoreCase)
                || (ComponentOf(i) != SpanComponents.Server && string.Equals(NameOf(i), component, StringComparison.OrdinalIgnoreCase)))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Whether a stage record would satisfy <paramref name="predicate"/>, building one record at a time.</summary>
    public bool Any(Func<SpanRecord, bool> predicate)
    {
        for (var i = 0; i < _items.Length; i++)
        {
            var parent = _items[i].Parent;
            var record = ToRecord(i, SpanConverter.StageSpanId(Root, i), parent < 0 ? RootId : SpanConverter.StageSpanId(Root, parent));
            if (predicate(record))
            {
                return true;
            }
        }

        return false;
    }

    private SpanRecord ToRecord(int index, string id, string parentId)
    {
        ref readonly var item = ref _items[index];
        var attributes = new List<KeyValuePair<string, string>>(4 + (item.Attributes?.Length ?? 0));
        if (item.Definition.TypeName is { } typeName)
        {
            _converter.AddAttribute(attributes, "code.namespace", typeName);
        }

        if (item.Definition.Component == SpanComponents.Endpoint && item.Name is not null)
        {
            _converter.AddAttribute(attributes, "http.route", item.Name);
        }

        if (item.Attributes is { } extra)
        {
            foreach (var pair in extra)
            {
                _converter.AddAttribute(attributes, pair.Key, pair.Value);
            }
        }

        _converter.AddAttribute(attributes, SpanConverter.SelfTimeAttribute, SelfTimeMs(index).ToString("0.###", CultureInfo.InvariantCulture));

        return new SpanRecord(
            TraceId,
            id,
            parentId,
            NameOf(index),
            ActivityKind.Internal,
            item.Definition.Component,
            new DateTimeOffset(item.StartTicks, TimeSpan.Zero),
            new TimeSpan(item.DurationTicks),
            item.Failed ? ActivityStatusCode.Error : ActivityStatusCode.Unset,
            item.StatusMessage,
            attributes.Count == 0 ? [] : attributes.ToArray(),
            (IReadOnlyList<SpanEvent>?)item.Events ?? [],
            [],
            FlowScopeSources.PipelineSourceName,
            _converter.Instance);
    }

    /// <summary>The numeric form of <see cref="SpanConverter.StageSpanId"/>.</summary>
    internal static ulong StageSpanIdValue(ActivitySpanId request, int index)
    {
        Span<byte> bytes = stackalloc byte[8];
        request.CopyTo(bytes);
        var value = BinaryPrimitives.ReadUInt64BigEndian(bytes) ^ ((ulong)(index + 1) * 0x9E3779B97F4A7C15UL);
        value ^= value >> 31;
        return value == 0 ? 1UL : value;
    }

    /// <summary>One stage as stored: UTC ticks, not stopwatch timestamps.</summary>
    private struct Item
    {
        public StageDefinition Definition;
        public string? Name;
        public long StartTicks;
        public long EndTicks;
        public long DurationTicks;
        public long ChildTicks;
        public int Parent;
        public bool Failed;
        public KeyValuePair<string, string>[]? Attributes;
        public List<SpanEvent>? Events;
        public string? StatusMessage;
    }
}
