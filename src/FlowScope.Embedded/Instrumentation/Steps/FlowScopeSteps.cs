using System.Diagnostics;
using FlowScope.Embedded.Capture;
using FlowScope.Embedded.Storage;
using FlowScope.Embedded.Workers.Internal;

namespace FlowScope.Embedded.Steps;

/// <summary>
/// Records the steps of multi-step, decision-making code as <c>custom</c> spans, with what each step observed and
/// what it decided — the "decision context" of a pipeline:
/// <code>
/// using var step = FlowScopeSteps.Start("route message");
/// step.Observe("candidates", 3);
/// step.Decide("bot", reason: "starts with /");
/// </code>
/// Nothing here throws into the caller except for invalid arguments; when nobody records the
/// <see cref="ActivitySourceName"/> source, a step costs almost nothing.
/// </summary>
public static class FlowScopeSteps
{
    /// <summary>The name of the activity source steps are created on: <c>FlowScope.Steps</c>.</summary>
    public const string ActivitySourceName = "FlowScope.Steps";

    /// <summary>The longest observation value kept, in characters (JSON: UTF-8 bytes); longer ones are cut and marked truncated.</summary>
    public const int MaxObservationLength = 4_096;

    /// <summary>The most observations one step keeps; further ones are counted in <c>flowscope.step.observations_dropped</c>.</summary>
    public const int MaxObservationsPerStep = 256;

    internal static readonly ActivitySource Source = new(ActivitySourceName);

    /// <summary>Starts a step as a child of the current activity (or as a new trace when there is none).</summary>
    /// <param name="name">The step's name, for example <c>route message</c>.</param>
    /// <returns>The step; dispose it when the step is done.</returns>
    public static FlowScopeStep Start(string name) => Start(name, default);

    /// <summary>Starts a step as a child of <paramref name="parent"/> (or of the current activity when it is <see langword="default"/>).</summary>
    /// <param name="name">The step's name.</param>
    /// <param name="parent">The context to continue.</param>
    /// <returns>The step; dispose it when the step is done.</returns>
    public static FlowScopeStep Start(string name, ActivityContext parent)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var previous = Activity.Current;
        try
        {
            var activity = Source.StartActivity(name, ActivityKind.Internal, parent);
            if (activity is null)
            {
                return FlowScopeStep.NotRecording;
            }

            if (activity.IsAllDataRequested)
            {
                activity.SetTag(SpanConverter.ComponentAttribute, SpanComponents.Custom);
            }

            return new FlowScopeStep(activity, previous);
        }
        catch (Exception ex)
        {
            InstrumentationFailures.RestoreCurrent(previous);
            InstrumentationFailures.Report("step", ex);
            return FlowScopeStep.NotRecording;
        }
    }
}
