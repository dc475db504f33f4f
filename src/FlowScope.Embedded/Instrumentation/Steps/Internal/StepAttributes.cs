namespace FlowScope.Embedded.Steps.Internal;

/// <summary>Event and attribute names of custom steps.</summary>
internal static class StepAttributes
{
    public const string ObservationEvent = "observation";
    public const string DecisionEvent = "decision";

    public const string Key = "flowscope.observation.key";
    public const string Value = "flowscope.observation.value";
    public const string Type = "flowscope.observation.type";
    public const string Truncated = "flowscope.observation.truncated";
    public const string Error = "flowscope.observation.error";

    public const string Decision = "flowscope.step.decision";
    public const string Reason = "flowscope.step.reason";
    public const string Outcome = "flowscope.step.outcome";
    public const string ObservationsDropped = "flowscope.step.observations_dropped";
}
