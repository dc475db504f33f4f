using System.Diagnostics;
using FlowScope.Embedded.Capture;

namespace FlowScope.Embedded.Storage.Encoding;

/// <summary>
/// Turns span payloads into <see cref="SpanRecord"/>s for readers: the one place the encoded form is read back
/// into objects. A request payload becomes its own record followed by one per pipeline stage.
/// </summary>
internal static class SpanDecoder
{
    /// <summary>Adds the records of one payload to <paramref name="output"/>: the span, then its stages in stage order.</summary>
    /// <exception cref="InvalidDataException">The payload is malformed.</exception>
    public static void Decode(ReadOnlySpan<byte> data, List<SpanRecord> output)
    {
        var payload = new SpanPayload(data);
        var traceId = payload.TraceId.ToString();
        var spanId = payload.SpanId;
        var start = payload.StartTicks;
        var reader = payload.Body();
        var name = reader.ReadString();
        var component = reader.ReadString();
        var source = reader.ReadString();
        var instance = reader.ReadString();
        var attributes = ReadAttributes(ref reader);
        var flags = payload.Flags;
        var statusMessage = (flags & PayloadLayout.HasStatusMessage) != 0 ? reader.ReadString() : null;
        var events = (flags & PayloadLayout.HasEvents) != 0 ? ReadEvents(ref reader, start) : [];
        IReadOnlyList<SpanLink> links = [];
        if ((flags & PayloadLayout.HasLinks) != 0)
        {
            var count = reader.ReadCount();
            var list = new SpanLink[count];
            for (var i = 0; i < count; i++)
            {
                var high = reader.ReadUInt64BigEndian();
                var low = reader.ReadUInt64BigEndian();
                list[i] = new SpanLink(new TraceId128(high, low).ToString(), SpanRecord.FormatSpanId(reader.ReadUInt64BigEndian()));
            }

            links = list;
        }

        var spanIdText = SpanRecord.FormatSpanId(spanId);
        output.Add(new SpanRecord(
            traceId,
            spanIdText,
            payload.ParentId == 0 ? null : SpanRecord.FormatSpanId(payload.ParentId),
            name,
            payload.Kind,
            component,
            new DateTimeOffset(start, TimeSpan.Zero),
            new TimeSpan(payload.DurationTicks),
            payload.Status,
            statusMessage,
            attributes,
            events,
            links,
            source,
            instance,
            payload.HasRemoteParent));

        if (payload.StageCount > 0)
        {
            DecodeStages(payload, traceId, spanId, spanIdText, instance, output);
        }
    }

    /// <summary>Decodes every payload of <paramref name="batch"/>.</summary>
    public static List<SpanRecord> Decode(SpanBatch batch)
    {
        var output = new List<SpanRecord>(batch.SpanCount);
        for (var i = 0; i < batch.Count; i++)
        {
            Decode(batch.GetPayload(i), output);
        }

        return output;
    }

    private static void DecodeStages(SpanPayload payload, string traceId, ulong requestId, string requestIdText, string instance, List<SpanRecord> output)
    {
        var section = payload.Stages();
        var count = section.Count;
        var stages = new StageEntry[count];
        var reader = section.ReadEntries(stages, out _);
        var self = new long[count];
        StageSection.SelfTimes(stages, self);
        var ids = new string[count];
        for (var i = 0; i < count; i++)
        {
            ids[i] = SpanRecord.FormatSpanId(StageSection.StageSpanId(requestId, i));
        }

        for (var i = 0; i < count; i++)
        {
            var stage = stages[i];
            var definition = StageDefinition.FromId(stage.Definition);
            string? statusMessage = null;
            KeyValuePair<string, string>[]? extra = null;
            IReadOnlyList<SpanEvent> events = [];
            if (stage.HasDetails)
            {
                if ((stage.Flags & PayloadLayout.StageHasStatusMessage) != 0)
                {
                    statusMessage = reader.ReadString();
                }

                extra = ReadAttributes(ref reader);
                events = ReadEvents(ref reader, payload.StartTicks);
            }

            var attributes = new List<KeyValuePair<string, string>>(1 + (definition.Attributes?.Length ?? 0) + (extra?.Length ?? 0));
            if (definition.TypeName is { } typeName)
            {
                attributes.Add(new("code.namespace", typeName));
            }

            if (definition.Attributes is { } common)
            {
                attributes.AddRange(common);
            }

            if (extra is not null)
            {
                attributes.AddRange(extra);
            }

            output.Add(new SpanRecord(
                traceId,
                ids[i],
                stage.Parent < 0 ? requestIdText : ids[stage.Parent],
                definition.Name,
                ActivityKind.Internal,
                definition.Component,
                new DateTimeOffset(stage.StartTicks, TimeSpan.Zero),
                new TimeSpan(stage.DurationTicks),
                stage.Failed ? ActivityStatusCode.Error : ActivityStatusCode.Unset,
                statusMessage,
                attributes.ToArray(),
                events,
                [],
                FlowScopeSources.PipelineSourceName,
                instance,
                selfTime: new TimeSpan(self[i])));
        }
    }

    internal static KeyValuePair<string, string>[] ReadAttributes(ref PayloadReader reader)
    {
        var count = reader.ReadCount();
        if (count == 0)
        {
            return [];
        }

        var attributes = new KeyValuePair<string, string>[count];
        for (var i = 0; i < count; i++)
        {
            var key = reader.ReadString();
            attributes[i] = new KeyValuePair<string, string>(key, reader.ReadString());
        }

        return attributes;
    }

    private static SpanEvent[] ReadEvents(ref PayloadReader reader, long spanStart)
    {
        var count = reader.ReadCount();
        var events = new SpanEvent[count];
        for (var i = 0; i < count; i++)
        {
            var name = reader.ReadString();
            var timestamp = new DateTimeOffset(checked(spanStart + reader.ReadVarInt()), TimeSpan.Zero);
            events[i] = new SpanEvent(name, timestamp, ReadAttributes(ref reader));
        }

        return events;
    }
}
