using System.Diagnostics;

namespace FlowScope.Embedded.Workers;

/// <summary>Names used by FlowScope's worker instrumentation.</summary>
public static class WorkerTracing
{
    /// <summary>The name of the activity source units of work and worker faults are recorded on: <c>FlowScope.Workers</c>.</summary>
    public const string ActivitySourceName = "FlowScope.Workers";

    internal const string NameAttribute = "flowscope.worker.name";
    internal const string TypeAttribute = "flowscope.worker.type";
    internal const string OutcomeAttribute = "flowscope.worker.outcome";

    internal static readonly ActivitySource Source = new(ActivitySourceName);
}
