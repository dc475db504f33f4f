using System.Buffers.Binary;
using System.Diagnostics;

namespace FlowScope.Embedded.Storage.Encoding;

/// <summary>Writes the fixed header of a span payload (see <see cref="PayloadLayout"/>).</summary>
internal static class PayloadHeader
{
    public static void Write(Span<byte> header, ActivityKind kind, ActivityStatusCode status, TraceId128 traceId, ulong spanId, ulong parentId, bool remoteParent, long startTicks, long durationTicks)
    {
        header[PayloadLayout.FlagsOffset] = remoteParent ? PayloadLayout.RemoteParent : (byte)0;
        header[PayloadLayout.KindOffset] = (byte)kind;
        header[PayloadLayout.StatusOffset] = (byte)status;
        BinaryPrimitives.WriteUInt64BigEndian(header[PayloadLayout.TraceIdOffset..], traceId.High);
        BinaryPrimitives.WriteUInt64BigEndian(header[(PayloadLayout.TraceIdOffset + 8)..], traceId.Low);
        BinaryPrimitives.WriteUInt64BigEndian(header[PayloadLayout.SpanIdOffset..], spanId);
        BinaryPrimitives.WriteUInt64BigEndian(header[PayloadLayout.ParentIdOffset..], parentId);
        BinaryPrimitives.WriteInt64LittleEndian(header[PayloadLayout.StartOffset..], startTicks);
        BinaryPrimitives.WriteInt64LittleEndian(header[PayloadLayout.DurationOffset..], Math.Max(0, durationTicks));
    }

    public static void AddFlags(Span<byte> header, byte flags) => header[PayloadLayout.FlagsOffset] |= flags;

    public static void SetStages(Span<byte> header, int count, int failed, int sectionOffset, ushort components)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(header[PayloadLayout.StageCountOffset..], (ushort)count);
        BinaryPrimitives.WriteUInt16LittleEndian(header[PayloadLayout.FailedStagesOffset..], (ushort)failed);
        BinaryPrimitives.WriteUInt32LittleEndian(header[PayloadLayout.StagesOffsetOffset..], (uint)sectionOffset);
        BinaryPrimitives.WriteUInt16LittleEndian(header[PayloadLayout.StageComponentsOffset..], components);
    }
}
