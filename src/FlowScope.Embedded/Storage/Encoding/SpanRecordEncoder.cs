using System.Buffers.Binary;
using System.Globalization;

namespace FlowScope.Embedded.Storage.Encoding;

/// <summary>Encodes a <see cref="SpanRecord"/> (one span, no stages) as a payload.</summary>
internal static class SpanRecordEncoder
{
    public static void Write(SpanRecord span, PayloadWriter writer)
    {
        if (!TraceId128.TryParse(span.TraceId, out var traceId))
        {
            throw new ArgumentException($"'{span.TraceId}' is not a W3C trace id.", nameof(span));
        }

        PayloadHeader.Write(
            writer.Header,
            span.Kind,
            span.Status,
            traceId,
            ParseSpanId(span.SpanId),
            span.ParentSpanId is null ? 0 : ParseSpanId(span.ParentSpanId),
            span.HasRemoteParent,
            span.StartTime.UtcTicks,
            span.Duration.Ticks);
        writer.WriteText(span.Name);
        writer.WriteText(span.Component);
        writer.WriteText(span.Source);
        writer.WriteText(span.Instance);
        WriteAttributes(writer, span.Attributes);

        byte flags = 0;
        if (span.StatusMessage is { } message)
        {
            flags |= PayloadLayout.HasStatusMessage;
            writer.WriteText(message);
        }

        if (span.Events.Count > 0)
        {
            flags |= PayloadLayout.HasEvents;
            writer.WriteVarUInt((ulong)span.Events.Count);
            foreach (var e in span.Events)
            {
                writer.WriteText(e.Name);
                writer.WriteVarInt(e.Timestamp.UtcTicks - span.StartTime.UtcTicks);
                WriteAttributes(writer, e.Attributes);
            }
        }

        if (span.Links.Count > 0)
        {
            flags |= PayloadLayout.HasLinks;
            writer.WriteVarUInt((ulong)span.Links.Count);
            foreach (var link in span.Links)
            {
                if (!TraceId128.TryParse(link.TraceId, out var linked))
                {
                    throw new ArgumentException($"Link trace id '{link.TraceId}' is not a W3C trace id.", nameof(span));
                }

                writer.WriteUInt64BigEndian(linked.High);
                writer.WriteUInt64BigEndian(linked.Low);
                writer.WriteUInt64BigEndian(ParseSpanId(link.SpanId));
            }
        }

        PayloadHeader.AddFlags(writer.Header, flags);
    }

    public static void WriteAttributes(PayloadWriter writer, IReadOnlyList<KeyValuePair<string, string>> attributes)
    {
        writer.WriteVarUInt((ulong)attributes.Count);
        for (var i = 0; i < attributes.Count; i++)
        {
            writer.WriteText(attributes[i].Key);
            writer.WriteText(attributes[i].Value ?? string.Empty);
        }
    }

    internal static ulong ParseSpanId(string id)
    {
        Span<byte> bytes = stackalloc byte[8];
        if (id.Length != 16 || Convert.FromHexString(id, bytes, out _, out var written) != System.Buffers.OperationStatus.Done || written != 8)
        {
            throw new ArgumentException($"'{id}' is not a W3C span id.", nameof(id));
        }

        return BinaryPrimitives.ReadUInt64BigEndian(bytes);
    }

    internal static string Format(ulong id) => id.ToString("x16", CultureInfo.InvariantCulture);
}
