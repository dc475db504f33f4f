using System.Diagnostics;
using FlowScope.Embedded.Workers.Internal;

namespace FlowScope.Embedded.Instrumentation;

/// <summary>How FlowScope's own scopes (steps, units of work, queue handler runs) end their span: in one place.</summary>
internal static class OwnSpans
{
    /// <summary>
    /// Records the outcome, stops the span and gives back the activity that was current when the scope began (unless
    /// the app changed <see cref="Activity.Current"/> meanwhile). Never throws: a failure is reported once per kind.
    /// </summary>
    /// <param name="activity">The scope's span, if it was recorded.</param>
    /// <param name="previous">The activity current when the scope began.</param>
    /// <param name="outcomeKey">The attribute carrying the outcome.</param>
    /// <param name="outcome">The outcome.</param>
    /// <param name="kind">The kind of scope, for the failure report ("step", "worker", "queue").</param>
    /// <param name="extra">The number of observations dropped, for steps (0: none to record).</param>
    public static void End(Activity? activity, Activity? previous, string outcomeKey, string outcome, string kind, int extra = 0)
    {
        if (activity is null)
        {
            return;
        }

        try
        {
            if (activity.IsAllDataRequested)
            {
                activity.SetTag(outcomeKey, outcome);
                if (extra > 0)
                {
                    activity.SetTag(FlowScope.Embedded.Steps.Internal.StepAttributes.ObservationsDropped, extra);
                }
            }

            activity.Dispose();
            if (Activity.Current == activity || Activity.Current is null)
            {
                Activity.Current = previous;
            }
        }
        catch (Exception ex)
        {
            InstrumentationFailures.Report(kind, ex);
        }
    }
}
