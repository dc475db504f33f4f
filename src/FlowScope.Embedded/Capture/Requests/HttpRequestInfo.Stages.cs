using System.Diagnostics;
using FlowScope.Embedded.Storage;

namespace FlowScope.Embedded.Capture;

/// <summary>
/// The request's pipeline stages: begun and ended on the request thread as its middleware, endpoint and MVC steps run,
/// read by the pump (possibly while the request still runs) to place spans under the stage they started in.
/// </summary>
internal sealed partial class HttpRequestInfo
{
    private Stage[] _stages = [];

    // What few stages carry (an exception, log events, extra attributes), parallel to _stages; made on first use,
    // so the stage array a request allocates (and the store keeps) holds only names, times and parents.
    private StageDetails[]? _details;

    // The stage count of a recent request: the first stage array is made that large, so a steady pipeline gets one
    // exact-size array per request (kept as is by the store) instead of growing 8 → 16.
    private static int s_stageHint = 8;
    private int _stageCount;
    private int _current = -1;

    // Stages (index < 63) whose component returned the very task of the stage nested in it (a pass-through
    // middleware: "return next(context)"). They end when that stage ends, from its completion, without an awaiting
    // task of their own; whoever clears a stage's bit ends it (see TryClaimJoined).
    private long _joinedStages;

    // Which stages an activity started under (bit i: stage i; bit 63: any stage from 63 on). Only those stages'
    // span ids can be a recorded span's parent, so only those are remembered by the component map.
    private long _stagesWithChildren;

    public int StageCount => Volatile.Read(ref _stageCount);

    /// <summary>Records that a stage starts now, nested in the stage currently running. Request thread only.</summary>
    public int BeginStage(StageDefinition definition) => BeginStage(definition, Stopwatch.GetTimestamp());

    /// <summary>Records that a stage started at <paramref name="timestamp"/> (a stopwatch timestamp), nested in the stage currently running.</summary>
    public int BeginStage(StageDefinition definition, long timestamp)
    {
        var index = _stageCount;
        if (index == _stages.Length)
        {
            Array.Resize(ref _stages, index == 0 ? Volatile.Read(ref s_stageHint) : index * 2);
            if (Volatile.Read(ref _details) is { } details)
            {
                Array.Resize(ref details, _stages.Length);
                Volatile.Write(ref _details, details);
            }
        }

        _stages[index] = new Stage(definition.Id, timestamp, _current);
        _current = index;
        Volatile.Write(ref _stageCount, index + 1);
        return index;
    }

    /// <summary>Records a stage that already happened (for example MVC model binding, known only afterwards).</summary>
    public void AddCompletedStage(StageDefinition definition, long start, long end)
    {
        var index = BeginStage(definition, start);
        EndStage(index, null, end);
    }

    /// <summary>Records that stage <paramref name="index"/> ends now, with the exception that left it, if any. Request thread only.</summary>
    public void EndStage(int index, Exception? exception) => EndStage(index, exception, Stopwatch.GetTimestamp());

    /// <summary>Records that stage <paramref name="index"/> ended at <paramref name="timestamp"/> (a stopwatch timestamp).</summary>
    public void EndStage(int index, Exception? exception, long timestamp)
    {
        ref var stage = ref _stages[index];
        stage.End = timestamp;
        if (exception is not null)
        {
            // The innermost stage that sees an exception records it; outer stages only note the failure.
            stage.Failed = true;
            if (!ReferenceEquals(exception, LastException))
            {
                DetailsOf(index).Exception = exception;
                LastException = exception;
            }

            if (stage.Parent < 0)
            {
                Exception = exception;
            }
        }

        _current = stage.Parent;
    }

    /// <summary>
    /// Notes that an activity started inside this request at <paramref name="timestamp"/>: the stage running then
    /// (<see cref="FindStageAt"/>, as the converter will choose it) becomes a parent. Any thread.
    /// </summary>
    internal void NoteChildStartedAt(long timestamp)
    {
        var stage = FindStageAt(timestamp);
        if (stage >= 0)
        {
            Interlocked.Or(ref _stagesWithChildren, 1L << Math.Min(stage, 63));
        }
    }

    /// <summary>Whether stage <paramref name="index"/> may be the parent of a recorded span (see <see cref="NoteChildStartedAt"/>).</summary>
    internal static bool IsParentStage(long mask, int index) => (mask & (1L << Math.Min(index, 63))) != 0;

    /// <summary>The stages activities started under so far (see <see cref="IsParentStage"/>).</summary>
    internal long StagesWithChildren => Interlocked.Read(ref _stagesWithChildren);

    /// <summary>The parent of stage <paramref name="index"/> (-1 for an outermost stage).</summary>
    internal int ParentOfStage(int index) => Volatile.Read(ref _stages)[index].Parent;

    /// <summary>
    /// Marks stage <paramref name="index"/> as ending together with the stage nested in it, whose task its component
    /// returned. Returns <see langword="false"/> when it cannot be marked (index 63 and beyond); then it must be awaited.
    /// </summary>
    internal bool TryJoinChild(int index)
    {
        if ((uint)index >= 63)
        {
            return false;
        }

        Interlocked.Or(ref _joinedStages, 1L << index);
        return true;
    }

    /// <summary>Takes the mark of a joined stage: <see langword="true"/> for exactly one caller, who then ends it.</summary>
    internal bool TryClaimJoined(int index)
    {
        if ((uint)index >= 63)
        {
            return false;
        }

        var bit = 1L << index;
        return (Interlocked.And(ref _joinedStages, ~bit) & bit) != 0;
    }

    /// <summary>Ends stage <paramref name="index"/> and then each enclosing stage that joined it (see <see cref="TryJoinChild"/>).</summary>
    internal void EndStageAndJoined(int index, Exception? exception)
    {
        // A joined stage ends at the very moment the stage it joined does: one clock read serves them all.
        var now = Stopwatch.GetTimestamp();
        EndStage(index, exception, now);
        var parent = ParentOfStage(index);
        while (parent >= 0 && TryClaimJoined(parent))
        {
            EndStage(parent, exception, now);
            parent = ParentOfStage(parent);
        }
    }

    /// <summary>The details of stage <paramref name="index"/>, or default when it has none.</summary>
    internal StageDetails GetDetails(int index) => Volatile.Read(ref _details) is { } details && index < details.Length ? details[index] : default;

    /// <summary>Whether any stage has details (an exception, log events or extra attributes).</summary>
    internal bool HasDetails => Volatile.Read(ref _details) is not null;

    private ref StageDetails DetailsOf(int index)
    {
        var details = Volatile.Read(ref _details);
        if (details is null)
        {
            details = new StageDetails[Math.Max(_stages.Length, index + 1)];
            details = Interlocked.CompareExchange(ref _details, details, null) ?? details;
        }

        return ref details[index];
    }

    /// <summary>Adds attributes to a running stage, after those it already has. Request thread only.</summary>
    public void AddStageAttributes(int index, KeyValuePair<string, string>[] attributes)
    {
        ref var details = ref DetailsOf(index);
        details.Attributes = details.Attributes is { } existing ? [.. existing, .. attributes] : attributes;
    }

    /// <summary>
    /// The MVC stages of the request (their indexes, -1 when none): the controller stage the endpoint's stage began,
    /// and the action and result stages open between a filter's <c>…Executing</c> and <c>…Executed</c> calls.
    /// </summary>
    internal MvcStages Mvc = new() { Controller = -1, Action = -1, Result = -1 };

    internal struct MvcStages
    {
        public int Controller;
        public int Action;
        public int Result;

        /// <summary>The action method's stage ("Get()"), noted with the controller stage.</summary>
        public StageDefinition? Method;

        /// <summary>Whether an MVC filter began the controller stage (no endpoint: MVC without endpoint routing) and ends it.</summary>
        public bool OwnController;
    }

    public Exception? LastException { get; private set; }

    /// <summary>The stage array itself (at least <see cref="StageCount"/> long), for the pump once the request has ended.</summary>
    internal Stage[] StageArray => Volatile.Read(ref _stages);

    /// <summary>Gets a copy of a stage. Safe from the pump while the request still runs (see <see cref="FindStageAt"/>).</summary>
    public Stage GetStage(int index) => Volatile.Read(ref _stages)[index];

    /// <summary>
    /// Finds the innermost stage that was running at <paramref name="timestamp"/>: the stage a span that started
    /// then belongs under. Called from the pump, possibly while the request still runs: it reads only stages begun
    /// before that time, whose start and parent no longer change.
    /// </summary>
    public int FindStageAt(long timestamp)
    {
        var stages = Volatile.Read(ref _stages);
        var count = Math.Min(Volatile.Read(ref _stageCount), stages.Length);
        var found = -1;
        for (var i = 0; i < count; i++)
        {
            var stage = stages[i];
            if (stage.Start <= timestamp && (stage.End == 0 || stage.End >= timestamp))
            {
                found = i; // later-begun stages that still contain the time are nested deeper
            }
        }

        return found;
    }

    /// <summary>
    /// One recorded pipeline stage: 32 bytes and no object reference (its kind is a <see cref="StageDefinition.Id"/>),
    /// so the stage array a request allocates and the store keeps is one the garbage collector copies without
    /// scanning.
    /// </summary>
    internal struct Stage(int definition, long start, int parent)
    {
        public long Start = start;
        public long End;
        public int DefinitionId = definition;
        public int Parent = parent;
        public bool Failed;

        public readonly StageDefinition Definition => StageDefinition.FromId(DefinitionId);
    }

    /// <summary>What only some stages carry.</summary>
    internal struct StageDetails
    {
        /// <summary>The exception this stage was the innermost to see.</summary>
        public Exception? Exception;

        /// <summary>Attributes beyond the definition's (the <see cref="StageDefinition.Attributes"/> are added too).</summary>
        public KeyValuePair<string, string>[]? Attributes;

        public List<SpanEvent>? Events;
    }
}
