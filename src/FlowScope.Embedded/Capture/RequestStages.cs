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

    // The request's own stage array (no copy), or a copy without exceptions and log lists when it had any.
    private readonly HttpRequestInfo.Stage[] _stages;
    private readonly int _count;
    private readonly long _baseTimestamp;
    private readonly long _baseUtcTicks;
    private readonly long _requestEndTicks;
    private readonly long _stagesWithChildren;

    // Only for requests with a failed stage or stage details: what their records carry besides the basics.
    private readonly Extra[]? _extras;

    private RequestStages(SpanConverter converter, HttpRequestInfo http, HttpRequestInfo.Stage[] stages, int count, Extra[]? extras, SpanRecord request, DateTime requestEnd)
    {
        _converter = converter;
        _stages = stages;
        _count = count;
        _extras = extras;
        _baseTimestamp = http.BaseTimestamp;
        _baseUtcTicks = http.BaseUtc.Ticks;
        _requestEndTicks = requestEnd.Ticks;
        _stagesWithChildren = http.StagesWithChildren;
        _request = request;

        var minStart = long.MaxValue;
        var maxEnd = long.MinValue;
        for (var i = 0; i < count; i++)
        {
            if (stages[i].Failed)
            {
                FailedCount++;
            }

            var start = StartTicks(i);
            minStart = Math.Min(minStart, start);
            maxEnd = Math.Max(maxEnd, start + DurationTicks(i));
        }

        MinStart = new DateTimeOffset(minStart, TimeSpan.Zero);
        MaxEnd = new DateTimeOffset(maxEnd, TimeSpan.Zero);
    }

    /// <summary>Gets the number of stages, i.e. of span records <see cref="Expand(List{SpanRecord})"/> adds.</summary>
    public int Count => _count;

    /// <summary>Gets the number of stages that failed (their records have status Error).</summary>
    public int FailedCount { get; }

    /// <summary>Gets the earliest start of a stage record.</summary>
    public DateTimeOffset MinStart { get; }

    /// <summary>Gets the latest end of a stage record.</summary>
    public DateTimeOffset MaxEnd { get; }

    // The request's record: the trace and request span ids come from it (as numbers; no id string per stored request).
    private readonly SpanRecord _request;

    public string TraceId => _request.TraceId;

    /// <summary>The request span's id as a number.</summary>
    public ulong Root => _request.SpanIdNumber;

    /// <summary>The request span's id: the parent of the outermost stages (formatted when read).</summary>
    public string RootId => Root.ToString("x16", CultureInfo.InvariantCulture);

    /// <summary>
    /// Takes the stages of a finished request (on the pump, when its activity is converted). The request's stage
    /// array is kept as it is (names, times, parents); exception events, failure messages and log events are built
    /// now, as the converter always did, and kept only for the stages that have them (no exception object is kept).
    /// </summary>
    internal static RequestStages? Capture(SpanConverter converter, HttpRequestInfo http, SpanRecord request, DateTime requestEnd)
    {
        var count = http.StageCount;
        if (count == 0)
        {
            return null;
        }

        var stages = http.StageArray;
        var hasDetails = http.HasDetails;
        Extra[]? extras = null;
        for (var i = 0; i < count; i++)
        {
            var details = hasDetails ? http.GetDetails(i) : default;
            if (details.Exception is null && details.Events is null && details.Attributes is null && !stages[i].Failed)
            {
                continue;
            }

            extras ??= new Extra[count];
            var stage = stages[i];
            var end = stage.End == 0 ? requestEnd : http.ToUtc(stage.End);
            extras[i].Attributes = details.Attributes;
            List<SpanEvent>? events = null;
            if (details.Exception is { } exception)
            {
                events = [converter.ExceptionEvent(exception, end)];
            }

            if (http.StageEvents(i) is { } logs)
            {
                events ??= new List<SpanEvent>(logs.Count);
                converter.AppendCapped(events, logs);
            }

            extras[i].Events = events;
            if (stage.Failed)
            {
                extras[i].StatusMessage = converter.Truncate(details.Exception?.Message ?? http.LastException?.Message ?? "failed");
            }
        }

        return new RequestStages(converter, http, stages, count, extras, request, requestEnd);
    }

    /// <summary>The component of stage <paramref name="index"/>.</summary>
    public string ComponentOf(int index) => _stages[index].Definition.Component;

    /// <summary>The name of stage <paramref name="index"/> (its span name).</summary>
    public string NameOf(int index) => _stages[index].Definition.Name;

    public int ParentOf(int index) => _stages[index].Parent;

    /// <summary>The number of stage <paramref name="index"/>'s definition (<see cref="StageDefinition.Id"/>).</summary>
    internal int DefinitionIdOf(int index) => _stages[index].DefinitionId;

    /// <summary>
    /// Whether an activity started while stage <paramref name="index"/> ran, so a recorded span may name that
    /// stage as its parent (see <see cref="HttpRequestInfo.NoteChildStartedAt"/>).
    /// </summary>
    public bool MayBeParent(int index) => HttpRequestInfo.IsParentStage(_stagesWithChildren, index);

    public bool IsFailed(int index) => _stages[index].Failed;

    public TimeSpan DurationOf(int index) => new(DurationTicks(index));

    public DateTimeOffset EndOf(int index) => new(StartTicks(index) + DurationTicks(index), TimeSpan.Zero);

    /// <summary>The stage's own time in milliseconds (never negative), the value of its self-time attribute.</summary>
    public double SelfTimeMs(int index)
    {
        // Its duration less the time of the stages nested directly in it.
        var own = EndTicks(index) - StartTicks(index);
        for (var j = index + 1; j < _count; j++)
        {
            if (_stages[j].Parent == index)
            {
                own -= EndTicks(j) - StartTicks(j);
            }
        }

        return Math.Max(0, new TimeSpan(own).TotalMilliseconds);
    }

    /// <summary>Every stage's self time (see <see cref="SelfTimeMs"/>) in one pass.</summary>
    public void SelfTimesMs(Span<double> into)
    {
        var starts = _count <= 64 ? stackalloc long[_count] : new long[_count];
        var durations = _count <= 64 ? stackalloc long[_count] : new long[_count];
        Timings(starts, durations, into);
    }

    /// <summary>
    /// Every stage's start (UTC ticks), duration (ticks, as its record has it) and self time (ms, see
    /// <see cref="SelfTimeMs"/>), each clock reading converted once.
    /// </summary>
    public void Timings(Span<long> startTicks, Span<long> durationTicks, Span<double> selfMs)
    {
        for (var i = 0; i < _count; i++)
        {
            var start = StartTicks(i);
            var span = EndTicks(i) - start;
            startTicks[i] = start;
            durationTicks[i] = Math.Max(0, span);
            selfMs[i] = span;
        }

        for (var i = 0; i < _count; i++)
        {
            if (_stages[i].Parent >= 0)
            {
                selfMs[_stages[i].Parent] -= EndTicks(i) - startTicks[i];
            }
        }

        for (var i = 0; i < _count; i++)
        {
            selfMs[i] = Math.Max(0, new TimeSpan((long)selfMs[i]).TotalMilliseconds);
        }
    }

    /// <summary>Every stage's span id as a number, in one pass.</summary>
    public void SpanIdValues(Span<ulong> into)
    {
        var root = Root;
        for (var i = 0; i < _count; i++)
        {
            var value = root ^ ((ulong)(i + 1) * 0x9E3779B97F4A7C15UL);
            value ^= value >> 31;
            into[i] = value == 0 ? 1UL : value;
        }
    }

    /// <summary>The span id of stage <paramref name="index"/> as a number (see <see cref="SpanConverter.StageSpanId(ulong, int)"/>).</summary>
    public ulong SpanIdValue(int index) => StageSpanIdValue(Root, index);

    // UTC ticks exactly as HttpRequestInfo.ToUtc maps stopwatch timestamps; a stage still open ends with the request.
    private long ToUtcTicks(long timestamp) => _baseUtcTicks + Stopwatch.GetElapsedTime(_baseTimestamp, timestamp).Ticks;

    private long StartTicks(int index) => ToUtcTicks(_stages[index].Start);

    private long EndTicks(int index) => _stages[index].End == 0 ? _requestEndTicks : ToUtcTicks(_stages[index].End);

    private long DurationTicks(int index) => Math.Max(0, EndTicks(index) - StartTicks(index));

    /// <summary>Adds one span record per stage, in stage order, exactly as they would have been stored.</summary>
    public void Expand(List<SpanRecord> output)
    {
        var ids = new string[_count];
        for (var i = 0; i < ids.Length; i++)
        {
            ids[i] = SpanConverter.StageSpanId(Root, i);
        }

        var rootId = RootId;
        var traceId = TraceId;
        for (var i = 0; i < _count; i++)
        {
            output.Add(ToRecord(traceId, i, ids[i], _stages[i].Parent < 0 ? rootId : ids[_stages[i].Parent]));
        }
    }

    /// <summary>The span records of the stages (see <see cref="Expand(List{SpanRecord})"/>).</summary>
    public List<SpanRecord> Expand()
    {
        var output = new List<SpanRecord>(_count);
        Expand(output);
        return output;
    }

    /// <summary>Whether a stage record would have this component, or this name (the store's component filter).</summary>
    public bool TouchesComponent(string component)
    {
        for (var i = 0; i < _count; i++)
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
        var traceId = TraceId;
        for (var i = 0; i < _count; i++)
        {
            var parent = _stages[i].Parent;
            var record = ToRecord(traceId, i, SpanConverter.StageSpanId(Root, i), parent < 0 ? RootId : SpanConverter.StageSpanId(Root, parent));
            if (predicate(record))
            {
                return true;
            }
        }

        return false;
    }

    private SpanRecord ToRecord(string traceId, int index, string id, string parentId)
    {
        ref readonly var stage = ref _stages[index];
        var definition = stage.Definition;
        var extras = _extras is null ? default : _extras[index];
        var attributes = new List<KeyValuePair<string, string>>(4 + (definition.Attributes?.Length ?? 0) + (extras.Attributes?.Length ?? 0));
        if (definition.TypeName is { } typeName)
        {
            _converter.AddAttribute(attributes, "code.namespace", typeName);
        }

        if (definition.Attributes is { } common)
        {
            foreach (var pair in common)
            {
                _converter.AddAttribute(attributes, pair.Key, pair.Value);
            }
        }

        if (extras.Attributes is { } extra)
        {
            foreach (var pair in extra)
            {
                _converter.AddAttribute(attributes, pair.Key, pair.Value);
            }
        }

        _converter.AddAttribute(attributes, SpanConverter.SelfTimeAttribute, SelfTimeMs(index).ToString("0.###", CultureInfo.InvariantCulture));

        return new SpanRecord(
            traceId,
            id,
            parentId,
            definition.Name,
            ActivityKind.Internal,
            definition.Component,
            new DateTimeOffset(StartTicks(index), TimeSpan.Zero),
            new TimeSpan(DurationTicks(index)),
            stage.Failed ? ActivityStatusCode.Error : ActivityStatusCode.Unset,
            extras.StatusMessage,
            attributes.Count == 0 ? [] : attributes.ToArray(),
            (IReadOnlyList<SpanEvent>?)extras.Events ?? [],
            [],
            FlowScopeSources.PipelineSourceName,
            _converter.Instance);
    }

    /// <summary>The numeric form of <see cref="SpanConverter.StageSpanId(ulong, int)"/>.</summary>
    internal static ulong StageSpanIdValue(ulong request, int index)
    {
        var value = request ^ ((ulong)(index + 1) * 0x9E3779B97F4A7C15UL);
        value ^= value >> 31;
        return value == 0 ? 1UL : value;
    }

    /// <summary>What a failed stage, or one with log events, carries besides its timing.</summary>
    private struct Extra
    {
        public KeyValuePair<string, string>[]? Attributes;
        public List<SpanEvent>? Events;
        public string? StatusMessage;
    }
}
