using System.Diagnostics;
using FlowScope.Embedded.Storage;

namespace FlowScope.Embedded.Capture;

/// <summary>
/// Events FlowScope records for an activity it does not own (log entries written under it), kept beside the
/// activity as a custom property instead of in <see cref="Activity.Events"/>: exporters never see them, so the app's
/// exported spans stay unchanged.
/// </summary>
internal sealed class SideEvents
{
    private const string PropertyName = "FlowScope.SideEvents";

    private static readonly Lock s_attachLock = new();
    private readonly List<SpanEvent> _events = new(2);

    public static IReadOnlyList<SpanEvent>? Get(Activity activity)
    {
        if (activity.GetCustomProperty(PropertyName) is not SideEvents side)
        {
            return null;
        }

        lock (side._events)
        {
            return [.. side._events];
        }
    }

    /// <summary>Puts what was kept of each value in its place in the events recorded so far (see <see cref="Redactor.Scrub(List{SpanEvent}, List{KeyValuePair{string, string}})"/>).</summary>
    public static void Scrub(Activity activity, List<KeyValuePair<string, string>> replacements)
    {
        if (activity.GetCustomProperty(PropertyName) is SideEvents side)
        {
            lock (side._events)
            {
                Redactor.Scrub(side._events, replacements);
            }
        }
    }

    /// <summary>Adds an event; returns <see langword="false"/> when the span already holds <paramref name="max"/>.</summary>
    public static bool Add(Activity activity, SpanEvent spanEvent, int max)
    {
        if (activity.GetCustomProperty(PropertyName) is not SideEvents side)
        {
            lock (s_attachLock)
            {
                side = activity.GetCustomProperty(PropertyName) as SideEvents ?? new SideEvents();
                activity.SetCustomProperty(PropertyName, side);
            }
        }

        lock (side._events)
        {
            if (side._events.Count >= max)
            {
                return false;
            }

            side._events.Add(spanEvent);
            return true;
        }
    }
}
