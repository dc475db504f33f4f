namespace FlowScope.Embedded.Storage.Encoding;

/// <summary>
/// The encoded form of one span: the only form a finished span takes in FlowScope (in the store, on the way to
/// observers and in Redis entries). A request's payload also carries its pipeline stages, which are spans of their
/// own when read. Little-endian; documented in docs/architecture.md ("The encoded form").
/// <code>
///  0  flags (u8)            1  kind (u8)            2  status (u8)           3  layout version (u8)
///  4  stage count (u16)     6  failed stages (u16)  8  stage section offset (u32, 0: none)
/// 12  stage components (u16: bit n = well-known component text n)          14  reserved (u16)
/// 16  trace id (16 bytes)  32  span id (8)         40  parent span id (8, 0: none)
/// 48  start, UTC ticks (i64)                       56  duration, ticks (i64)
/// 64  name, component, source, instance (texts); attribute count, (key, value)*;
///     [status message]; [event count, (name, time offset, attribute count, (key, value)*)*];
///     [link count, (trace id, span id)*]; [stage section]
/// </code>
/// A text is a varint n: even, the well-known text n/2 (<see cref="WellKnownStrings"/>); odd, n/2 UTF-8 bytes follow.
/// The stage section: the stages-with-children mask (varint), then per stage its definition number, start offset from
/// the span's start (zig-zag ticks), duration (ticks), parent + 1 (0: the request) and flags (u8), then, in stage
/// order, the details of stages flagged with them (status message, attributes, events).
/// </summary>
internal static class PayloadLayout
{
    public const byte Version = 1;
    public const int HeaderSize = 64;

    public const int FlagsOffset = 0;
    public const int KindOffset = 1;
    public const int StatusOffset = 2;
    public const int VersionOffset = 3;
    public const int StageCountOffset = 4;
    public const int FailedStagesOffset = 6;
    public const int StagesOffsetOffset = 8;
    public const int StageComponentsOffset = 12;
    public const int TraceIdOffset = 16;
    public const int SpanIdOffset = 32;
    public const int ParentIdOffset = 40;
    public const int StartOffset = 48;
    public const int DurationOffset = 56;

    // Span flags.
    public const byte RemoteParent = 1;
    public const byte HasStatusMessage = 2;
    public const byte HasEvents = 4;
    public const byte HasLinks = 8;
    public const byte Truncated = 16;

    // Stage flags.
    public const byte StageFailed = 1;
    public const byte StageHasDetails = 2;
    public const byte StageHasStatusMessage = 4;

    /// <summary>The largest payload: bigger spans lose events, then attribute length, until they fit.</summary>
    public const int MaxPayloadBytes = 256 * 1024;

    /// <summary>The most stages one request payload holds.</summary>
    public const int MaxStages = ushort.MaxValue;
}
